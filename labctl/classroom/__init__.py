"""A class: one lab per student of a roster, driven together (`labctl class ...`).

Each student's lab is an ordinary lab named `<class>-<student>`: its own lock, undo journal,
results and subnet. The class adds only the roster, the bound on how many labs work at once,
and the view across them.
"""
