"""gunicorn's settings for `make run`: what the access log keeps, and which proxies it believes.

Loaded with `gunicorn -c python:clinic.gunicorn_conf`; the Makefile passes the address, workers
and threads on the command line.

Access log: one line per request with the address, time, method, path (never the query string,
which holds search terms such as client names), status, size and duration. The Referer header
is left out too: it carries the previous page's full URL, query string included.

Proxies: gunicorn itself believes no X-Forwarded-* header from anyone. Whether a request came
over HTTPS, and from which address, is decided by the app alone, from the TRUSTED_PROXIES
setting (the number of reverse proxies in front of it, 0 by default; see clinic.settings).
gunicorn's own default trusts X-Forwarded-Proto from 127.0.0.1, so anything on the same
computer that relays a client's headers would decide for the client.
"""

from __future__ import annotations

# Logged to standard output and standard error, where `make run` shows them.
accesslog = "-"
errorlog = "-"
# %(U)s is the path without the query string; %(M)s the duration in milliseconds.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Empty: no address is trusted to set the scheme or the script path through headers.
forwarded_allow_ips = ""
