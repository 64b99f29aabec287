"""A node made again on a second `up` keeps the login keys given to the lab's users."""

from pathlib import Path

from labctl.providers.local import nspawn


def test_a_second_customise_keeps_user_keys_and_the_lab_key_once(tmp_path: Path) -> None:
    spec = nspawn.NodeSpec(lab="t", name="worker-1", ip="10.0.0.3", prefixlen=24, gateway="10.0.0.1", bridge="lc-t", base=tmp_path)
    for directory in ("etc/ssh", "etc/systemd/system", "usr/local/sbin"):
        (spec.root / directory).mkdir(parents=True)
    lab_key = "ssh-ed25519 AAAAlab labctl-t"
    nspawn.customise(spec, lab_key, {"worker-1": "10.0.0.3"})
    authorized = spec.root / "root/.ssh/authorized_keys"
    with authorized.open("a") as handle:
        handle.write("ssh-ed25519 AAAAann ann@t\n")  # what `labctl user add ann` adds
    nspawn.customise(spec, lab_key, {"worker-1": "10.0.0.3"})
    assert authorized.read_text().splitlines() == [lab_key, "ssh-ed25519 AAAAann ann@t"]
    assert oct(authorized.stat().st_mode & 0o777) == "0o600"
