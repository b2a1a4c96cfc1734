"""``iib-step demo``: the whole product on one machine, as a release pipeline would use it.

``run`` starts the status API (SQLite, the local executor), builds bundle images from examples/,
submits add, a second add and rm through the REST API, follows each to the end, prints each
outcome, index image and the changed packages' upgrade graphs, and a summary. ``serve`` starts the
same API in the foreground (the demo's builds and the status page at ``/``) until stopped.
"""
