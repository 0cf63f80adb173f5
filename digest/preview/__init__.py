"""`digest preview`: a local web page that shows an issue as subscribers will see it, rebuilt on every save.

frame.py turns a built email into what the preview frame shows, state.py holds the last build, watch.py
rebuilds on saves, server.py answers the browser; page/ is the preview page itself (HTML, CSS, JS).
"""
