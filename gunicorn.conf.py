"""gunicorn settings for the local scoring service: `make serve`, the tests and
`tests/benchmarks/bench_serve.py` all run Azure's inference server app with this file:
`gunicorn -c gunicorn.conf.py -b 127.0.0.1:PORT -w N <the azmlinfsrv app>`.

Why not gunicorn's default sync worker: since gunicorn 26 it closes every connection
gracefully (half-close, then waits for the client to hang up), so a worker answers one
request per connection and then idles until the client has read and closed; with the
scoring script replaced by a constant answer, sync workers managed 527 requests/s and
these settings 979 on the same busy machine. A threaded worker keeps connections alive:
a client sends request after request on one connection, as `requests.Session`,
browsers and Azure's own front end do. With the real reader (about 4 ms of CPU a
request) sync workers, 1 or 2 threads measured alike in bench_serve on the busy
machine, within its run-to-run noise (about 15 %): there the reader decides. The
address and worker count come from the command line (`make serve`: 2 workers,
`WORKERS=`). One difference from a sync worker: azmlinfsrv's SCORING_TIMEOUT_MS (an hour
by default) uses SIGALRM, which only works in a process's main thread, so requests
answered in threads are not timed out.
"""

worker_class = "gthread"
# Two threads per worker, so one can parse or send while the other reads; more would
# only queue on the worker's interpreter lock. Keep-alive connections wait in the
# worker's poller, not in a thread, so 20 clients need no more.
threads = 2
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket the worker that wakes first took nearly
# all of them (20 clients' connections split 1/19, 2/18, 20/0), so with keep-alive one
# worker did all the work on one core.
reuse_port = True
# Seconds an idle connection stays open: a client's next request comes within ms; a
# stop (SIGTERM) waits for idle connections up to this long.
keepalive = 5
timeout = 300  # a worker silent this long is restarted (booting may download the champion)
