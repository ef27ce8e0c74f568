"""A small renderer for the subset of Helm's template language deploy/helm/ozg-hub uses. There is
no helm binary on the build machines; this is a lint of the chart, not helm: it renders what the
chart's templates use and fails loudly on anything else, so a template that needs more than this
subset is caught here rather than silently rendered wrong.

Supported: {{ .Values.a.b }}, {{ .Release.Name }}, {{ .Release.Namespace }}, {{ .Chart.Name }},
{{ .Chart.Version }}, {{ .Chart.AppVersion }}, "string literals", pipelines into quote, nindent N,
indent N and toYaml (also as `toYaml X | nindent N`), {{ if X }} / {{ else }} / {{ end }} (Go's
truthiness), and the whitespace trimming of {{- and -}}.

    python3 helm_render.py CHART_DIR [--set key.path=value ...]   prints the rendered manifests
"""

import copy
import os
import re
import sys

import yaml

TOKEN = re.compile(r"{{(-?)\s*(.*?)\s*(-?)}}", re.S)


class TemplateError(Exception):
    pass


def _lookup(path, context, where):
    node = context
    for part in path.split(".")[1:]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict):
            return None  # Helm renders a missing value as empty
        else:
            raise TemplateError(f"{where}: {path}: {part} is not a field of a value")
    return node


def _to_yaml(value):
    if value is None:
        return "null"
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"a mapping or list printed without toYaml: {value!r}")
    return str(value)


def _indent(text, n):
    pad = " " * n
    return pad + text.replace("\n", "\n" + pad)


def _evaluate(expr, context, where):
    stages = [s.strip() for s in expr.split("|")]
    value = None
    for i, stage in enumerate(stages):
        words = stage.split()
        if not words:
            raise TemplateError(f"{where}: empty pipeline stage in '{expr}'")
        head, args = words[0], words[1:]
        if i == 0 and head.startswith("."):
            if args:
                raise TemplateError(f"{where}: unexpected '{stage}'")
            value = _lookup(head, context, where)
            continue
        if i == 0 and head.startswith('"'):
            value = stage[1:-1] if stage.endswith('"') else None
            if value is None:
                raise TemplateError(f"{where}: bad string literal {stage}")
            continue
        if i == 0:
            # A function with its argument first: `toYaml .Values.x`.
            if len(args) != 1 or not args[0].startswith("."):
                raise TemplateError(f"{where}: unsupported '{stage}'")
            value, args = _lookup(args[0], context, where), []
        if head == "toYaml" and not args:
            value = _to_yaml(value)
        elif head == "quote" and not args:
            value = '"' + _text(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif head in ("nindent", "indent") and len(args) == 1 and args[0].isdigit():
            value = ("\n" if head == "nindent" else "") + _indent(_text(value), int(args[0]))
        else:
            raise TemplateError(f"{where}: unsupported function '{stage}' (not helm: extend "
                                "tests/integration/helm_render.py or simplify the template)")
    return value


def _truthy(value):
    return value not in (None, False, 0, "", [], {})


def render_text(text, context, where="template"):
    """Renders one template's text."""
    pieces = []  # literal strings and ("action", expr) tuples
    pos = 0
    for m in TOKEN.finditer(text):
        literal = text[pos:m.start()]
        if m.group(1):
            literal = literal.rstrip(" \t\r\n")
        pieces.append(literal)
        pieces.append(("action", m.group(2)))
        pos = m.end()
        if m.group(3):
            rest = text[pos:]
            pos += len(rest) - len(rest.lstrip(" \t\r\n"))
    pieces.append(text[pos:])
    if "{{" in "".join(p for p in pieces if isinstance(p, str)):
        raise TemplateError(f"{where}: an unclosed {{{{")

    out = []
    stack = []  # per open if: [condition, in_else]
    for piece in pieces:
        active = all(c != e for c, e in stack)
        if isinstance(piece, str):
            if active:
                out.append(piece)
            continue
        expr = piece[1]
        if expr.startswith("/*"):
            continue
        word = expr.split()[0] if expr.split() else ""
        if word == "if":
            cond = _truthy(_evaluate(expr[2:].strip(), context, where)) if active else False
            stack.append([cond, False])
        elif word == "else" and expr == "else":
            if not stack:
                raise TemplateError(f"{where}: else without if")
            stack[-1][1] = True
        elif word == "end" and expr == "end":
            if not stack:
                raise TemplateError(f"{where}: end without if")
            stack.pop()
        elif word in ("range", "with", "define", "template", "include", "block", "else", "end"):
            raise TemplateError(f"{where}: '{expr}' is not supported by this lint")
        elif active:
            out.append(_text(_evaluate(expr, context, where)))
    if stack:
        raise TemplateError(f"{where}: if without end")
    return "".join(out)


def _set(values, assignment):
    key, _, raw = assignment.partition("=")
    node = values
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = yaml.safe_load(raw) if raw else ""


def render_chart(chart_dir, overrides=(), release="ozg-hub", namespace="default"):
    """Renders every template of the chart: {template file name: rendered text}."""
    with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "values.yaml"), encoding="utf-8") as f:
        values = copy.deepcopy(yaml.safe_load(f))
    for o in overrides:
        _set(values, o)
    context = {
        "Values": values,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm"},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion", "")},
    }
    rendered = {}
    tdir = os.path.join(chart_dir, "templates")
    for name in sorted(os.listdir(tdir)):
        if not name.endswith((".yaml", ".yml", ".tpl")) or name.startswith("_"):
            continue
        with open(os.path.join(tdir, name), encoding="utf-8") as f:
            rendered[name] = render_text(f.read(), context, name)
    return rendered


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    overrides = []
    args = argv[1:]
    while args:
        if args[0] == "--set" and len(args) > 1:
            overrides.append(args[1])
            args = args[2:]
        else:
            print(f"unknown argument {args[0]}", file=sys.stderr)
            return 2
    for name, text in render_chart(argv[0], overrides).items():
        if text.strip():
            print(f"---\n# Source: {name}\n{text.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
