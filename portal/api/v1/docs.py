"""Readable API documentation at /api/v1/docs, rendered on the server from the OpenAPI document itself: no
script from another origin (the browser loads nothing but this page), neutral for every seller's brand."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ spec.info.title }} {{ spec.info.version }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
code,pre{font:13px ui-monospace,monospace;background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
h2{border-top:1px solid #ddd;padding-top:1rem}.m{font-weight:700;display:inline-block;min-width:4.5rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{ spec.info.title }} <small>{{ spec.info.version }}</small></h1>
<p>{{ spec.info.description }}</p>
<p>The machine-readable description: <a href="openapi.json">openapi.json</a> (OpenAPI {{ spec.openapi }}).</p>
{% for tag, operations in groups %}
<h2>{{ tag }}</h2>
{% for op in operations %}
<h3><span class="m">{{ op.method }}</span> <code>{{ op.path }}</code></h3>
{% if op.summary %}<p>{{ op.summary }}</p>{% endif %}
{% if op.parameters %}<table><tr><th scope="col">parameter</th><th scope="col">in</th><th scope="col">required</th></tr>
{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td>
<td>{{ "yes" if p.required else "no" }}</td></tr>{% endfor %}
</table>{% endif %}
<p>Answers: {% for status in op.statuses %}<code>{{ status }}</code> {% endfor %}</p>
{% endfor %}{% endfor %}
</body></html>"""

_env = Environment(autoescape=select_autoescape(default=True))


def render(spec: dict[str, Any]) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("description") or operation.get("summary") or "",
                    "parameters": operation.get("parameters", []),
                    "statuses": sorted(operation.get("responses", {})),
                }
            )
    return _env.from_string(PAGE).render(spec=spec, groups=sorted(groups.items()))
