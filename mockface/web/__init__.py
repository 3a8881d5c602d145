"""The web layer: the WSGI app (routes), the admin API and the server; the only package
that imports Flask, Werkzeug or waitress."""
