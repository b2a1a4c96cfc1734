"""The status page's HTML, written here as plain strings (every value escaped); no template engine,
no script from elsewhere. A page that shows a build in progress reloads itself every few seconds."""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

REFRESH_SECONDS = 3
STATE_LABELS = {"in_progress": "in progress", "complete": "complete", "failed": "failed"}


def layout(title: str, body: str, *, refresh: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    note = (
        f'<p class="refreshing" id="refreshing">A build is in progress: this page reloads every '
        f"{REFRESH_SECONDS} s.</p>"
        if refresh
        else ""
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{meta}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/ui/page.css"></head><body>'
        '<header><a class="home" href="/">IIB on Tekton</a>'
        '<nav><a href="/">Builds</a><a href="/schema/swagger">API documentation</a>'
        '<a href="/api/v1/builds">API</a></nav></header>'
        f"<main><h1>{escape(title)}</h1>{note}{body}</main></body></html>\n"
    )


def state_badge(state: str) -> str:
    return f'<span class="state state-{escape(state)}">{escape(STATE_LABELS.get(state, state))}</span>'


def _option(value: str, label: str, selected: str | None) -> str:
    chosen = " selected" if value == (selected or "") else ""
    return f'<option value="{escape(value)}"{chosen}>{escape(label)}</option>'


def filters_form(args: dict[str, str], states: list[str], types: list[str]) -> str:
    state_options = _option("", "any state", args.get("state")) + "".join(
        _option(s, STATE_LABELS.get(s, s), args.get("state")) for s in states
    )
    type_options = _option("", "any type", args.get("request_type")) + "".join(
        _option(t, t, args.get("request_type")) for t in types
    )
    user = escape(args.get("user") or "")
    return (
        '<form class="filters" method="get" action="/">'
        f'<label>State <select name="state">{state_options}</select></label>'
        f'<label>Type <select name="request_type">{type_options}</select></label>'
        f'<label>User <input name="user" value="{user}" placeholder="any user"></label>'
        '<button type="submit">Filter</button> <a href="/">clear</a></form>'
    )


def builds_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return '<p class="empty">No builds match.</p>'
    rows = []
    for item in items:
        build_id = int(item["id"])
        image = item.get("index_image") or ""
        rows.append(
            f'<tr data-build-id="{build_id}"><td><a href="/builds/{build_id}">{build_id}</a></td>'
            f"<td>{escape(str(item.get('request_type', '')))}</td>"
            f"<td>{state_badge(str(item.get('state', '')))}</td>"
            f"<td>{escape(str(item.get('user') or ''))}</td>"
            f"<td><time>{escape(str(item.get('updated', '')))}</time></td>"
            f'<td class="reason">{escape(str(item.get("state_reason") or ""))}</td>'
            f'<td class="image">{escape(str(image))}</td></tr>'
        )
    return (
        '<table class="builds"><thead><tr><th>id</th><th>type</th><th>state</th><th>user</th>'
        "<th>updated</th><th>state reason</th><th>index image</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def pager(meta: dict[str, Any], args: dict[str, str]) -> str:
    page, pages = int(meta.get("page") or 1), int(meta.get("pages") or 0)
    if pages <= 1:
        return f'<p class="pager">{int(meta.get("total") or 0)} build(s)</p>'
    keep = {k: v for k, v in args.items() if k in ("state", "request_type", "user") and v}
    links = []
    if page > 1:
        links.append(f'<a href="/?{escape(urlencode({**keep, "page": page - 1}))}">newer</a>')
    links.append(f"page {page} of {pages} ({int(meta.get('total') or 0)} builds)")
    if page < pages:
        links.append(f'<a href="/?{escape(urlencode({**keep, "page": page + 1}))}">older</a>')
    return '<p class="pager">' + " · ".join(links) + "</p>"


def _value(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return '<span class="none">—</span>'
    if isinstance(value, str):
        return escape(value)
    return f"<pre>{escape(json.dumps(value, indent=2, sort_keys=True))}</pre>"


def fields_table(build: dict[str, Any], skip: set[str]) -> str:
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{_value(build[key])}</td></tr>"
        for key in sorted(build)
        if key not in skip
    )
    return f'<table class="fields">{rows}</table>'


def history_table(history: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><time>{escape(str(h.get('updated', '')))}</time></td><td>{state_badge(str(h.get('state')))}"
        f"</td><td>{escape(str(h.get('state_reason') or ''))}</td></tr>"
        for h in history
    )
    return (
        '<table class="history"><thead><tr><th>when</th><th>state</th><th>reason</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def log_section(build_id: int, text: str | None, why_missing: str) -> str:
    link = f'<a href="/api/v1/builds/{build_id}/logs">/api/v1/builds/{build_id}/logs</a>'
    if text is None:
        return f'<p class="empty" id="log-missing">{escape(why_missing)}</p>'
    return f'<p>From {link}</p><pre class="log" id="log">{escape(text)}</pre>'


def graphs_section(build_id: int, packages: list[str], note: str) -> str:
    if not packages:
        return (
            '<p class="empty">No upgrade graph for this build (only finished add, rm and '
            "add-deprecations builds change packages).</p>"
        )
    intro = f"<p>{escape(note)}</p>" if note else ""
    figures = "".join(
        f'<figure class="graph" data-package="{escape(p)}"><img alt="upgrade graph of {escape(p)}" '
        f'src="/builds/{build_id}/graph/{quote(p)}.svg"></figure>'
        for p in packages
    )
    return intro + figures
