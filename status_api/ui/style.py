"""The status page's stylesheet (served at ``/ui/page.css``)."""

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1f2328; background: #fff; }
header { display: flex; gap: 2em; align-items: center; padding: .6em 1.5em; background: #24292f; }
header a { color: #fff; text-decoration: none; }
header .home { font-weight: bold; }
header nav a { margin-right: 1.2em; opacity: .85; }
main { padding: 0 1.5em 2em; }
h1 { font-size: 1.4em; }
h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; font-size: .9em; }
th, td { text-align: left; vertical-align: top; padding: .3em .7em; border-bottom: 1px solid #eaeef2; }
table.builds td.image, table.builds td.reason { max-width: 32em; overflow-wrap: anywhere; }
table.fields th { color: #57606a; font-weight: normal; white-space: nowrap; }
table.fields pre { margin: 0; }
.state { padding: .1em .5em; border-radius: 1em; font-size: .85em; white-space: nowrap; }
.state-in_progress { background: #fff8c5; color: #7d4e00; }
.state-complete { background: #dafbe1; color: #116329; }
.state-failed { background: #ffebe9; color: #a40e26; }
.filters { display: flex; gap: 1em; align-items: end; margin: 1em 0; flex-wrap: wrap; }
.filters label { display: flex; flex-direction: column; font-size: .85em; color: #57606a; }
.refreshing { color: #7d4e00; }
.empty, .none { color: #6e7781; }
.error { color: #a40e26; }
pre.log { background: #f6f8fa; padding: 1em; max-height: 30em; overflow: auto; font-size: .85em; }
figure.graph { margin: 1em 0; overflow-x: auto; }
figure.graph img { max-width: none; border: 1px solid #d0d7de; border-radius: 6px; }
"""
