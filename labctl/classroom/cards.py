"""Printable login cards: one page per student (lab, apps, first commands, credentials) and a class sheet."""

from pathlib import Path
from typing import Any

import jinja2

TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>class {{ name }} — login cards</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin: 0 0 .3rem; }
  table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #999; padding: .35rem .5rem; text-align: left; }
  th { background: #eee; } code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
  pre { background: #f4f4f4; border: 1px solid #ccc; padding: .6rem; white-space: pre-wrap; word-break: break-all; }
  .card { page-break-before: always; border: 2px solid #333; border-radius: 8px; padding: 1.2rem; margin-top: 2rem; }
  .who { color: #555; margin-bottom: 1rem; } .missing { color: #a00; }
  @media print { body { margin: 0; } .card { margin-top: 0; border: none; } }
</style></head><body>
<h1>Class {{ name }} — {{ rows | length }} student(s)</h1>
<table><tr><th>student</th><th>name</th><th>lab</th><th>controller</th><th>apps</th></tr>
{% for row in rows %}<tr><td>{{ row.student }}</td><td>{{ row.name }}</td>
{% if row.error is defined %}<td colspan="3" class="missing">{{ row.error }}</td>
{% else %}<td>{{ row.lab }}</td><td>{{ row.nodes[0].address if row.nodes else "" }}</td>
<td>{% for app, url in row.apps.items() %}{{ app }}: {{ url }}<br>{% endfor %}</td>{% endif %}</tr>
{% endfor %}</table>
{% for row in rows if row.error is not defined %}
<section class="card">
<h2>{{ row.name or row.student }}</h2>
<div class="who">student <b>{{ row.student }}</b> · lab <b>{{ row.lab }}</b> · class {{ name }}</div>
<p>Your cluster (you are <code>{{ row.user }}</code>, bound to your own lab only):</p>
<pre>export KUBECONFIG={{ row.kubeconfig }}
kubectl get nodes -o wide
kubectl auth whoami</pre>
<p>A shell on a node:</p>
<pre>{% for node in row.nodes %}{{ node.ssh }}   # {{ node.name }}
{% endfor %}</pre>
<p>The apps:</p>
<pre>{% for app, url in row.apps.items() %}{{ app }}  {{ url }}
{% endfor %}</pre>
<p>Your credentials: <code>{{ row.dir }}</code> (client certificate and key, kubeconfig, SSH key pair).</p>
</section>
{% endfor %}
</body></html>
""")


def write(name: str, rows: list[dict[str, Any]], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cards.html"
    path.write_text(TEMPLATE.render(name=name, rows=rows))
    return path
