"""gunicorn settings for the local scoring service: `make serve`, the tests and
`tests/benchmarks/bench_serve.py` all run Azure's inference server app with this file:
`gunicorn -c gunicorn.conf.py -b 127.0.0.1:PORT -w N <the azmlinfsrv app>`.

Why not gunicorn's default sync worker: since gunicorn 26 it closes every connection
gracefully (half-close, then waits for the client to close), so a worker answers one
request per connection and then idles until the client has read and hung up; on 2
busy cores that wait, the new connection per request and the client's extra work
cost more than the reading itself. A threaded worker keeps connections alive: a client
sends request after request on one connection, as `requests.Session`, browsers and
Azure's own front end do. The address and worker count come from the command line.
"""

worker_class = "gthread"
# Two threads per worker: one reads a digit while the other parses or sends; more
# would only queue on the worker's interpreter lock. Keep-alive connections wait in
# the worker's poller, not in a thread, so 20 clients need no more.
threads = 2
# Seconds an idle connection stays open: a client's next request comes within ms; a
# stop (SIGTERM) waits for idle connections up to this long.
keepalive = 5
timeout = 300  # a worker silent this long is restarted (the first request loads the model)
