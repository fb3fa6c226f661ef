"""The Autobahn|Testsuite client catalogue, run against syncws: ``python -m tests.autobahn``.

runner.py installs the suite (Python 2.7 code) into .autobahn/, starts its fuzzing
server on 127.0.0.1, runs every case through ``syncws.connect`` and then through
``syncws.ws_connect``, and summarises the server's report (summary.py). See
docs/conformance.md. Nothing here is collected by pytest except test_summary.py,
which checks the summary on a made-up report without any network.
"""
