"""Redirect answers to the opening handshake: followed up to max_redirects, credentials
kept on the same host and dropped on another, wss to ws refused, final URL visible."""

from __future__ import annotations

import socket
import ssl
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

import pytest

import syncws
from tests.apis import Client, header
from tests.connectivity.peers import AppServer

pytestmark = pytest.mark.timeout(30)


def redirect(base: str, to: str, code: int = 302) -> str:
    return f"{base}/redirect/{code}?to={quote(to, safe='')}"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_codes_followed(api: Client, app_url: str, code: int) -> None:
    info = api.info(redirect(app_url, "/info?hop=1", code))
    assert info["path"] == "/info?hop=1"


def test_location_forms_and_chains(api: Client, app: AppServer, app_url: str) -> None:
    http_form = f"http://127.0.0.1:{app.port}/info?form=http"
    assert api.info(redirect(app_url, http_form))["path"] == "/info?form=http"
    assert api.info(redirect(app_url, "../info?form=relative"))["path"] == "/info?form=relative"
    assert api.info(redirect(app_url, "/info?form=fragment#part"))["path"] == "/info?form=fragment"
    chain = redirect(app_url, redirect(app_url, redirect(app_url, "/info?hops=3", 307), 301))
    assert api.info(chain)["path"] == "/info?hops=3"


def test_final_url_visible(api: Client, app: AppServer, app_url: str) -> None:
    if not hasattr(syncws.SyncWebSocket, "url") or not hasattr(syncws.ClientWebSocketResponse, "url"):
        pytest.skip("ws.url property not added to the facades yet")
    with api.connect(redirect(app_url, f"ws://localhost:{app.port}/info?final=1")) as conn:
        assert conn.url == f"ws://localhost:{app.port}/info?final=1"
    with api.connect(f"ws://user:secret@127.0.0.1:{app.port}/info") as conn:
        assert conn.url == f"ws://127.0.0.1:{app.port}/info", "never the credentials"


def test_max_redirects(api: Client, app: AppServer, app_url: str) -> None:
    before = app.requests
    with pytest.raises(syncws.TooManyRedirects) as err:
        api.connect(app_url + "/loop")
    assert app.requests - before == 11, "the default is 10 redirects"
    assert err.value.status == 302 and isinstance(err.value, syncws.WSServerHandshakeError)
    two = redirect(app_url, redirect(app_url, "/info"))
    assert api.info(two, max_redirects=2)["path"] == "/info"
    with pytest.raises(syncws.TooManyRedirects):
        api.connect(two, max_redirects=1)
    with pytest.raises(syncws.TooManyRedirects):
        api.connect(two, max_redirects=0)


def test_credentials_kept_on_the_same_host(api: Client, app: AppServer) -> None:
    base = f"ws://127.0.0.1:{app.port}"
    info = api.info(redirect(f"ws://user:pw@127.0.0.1:{app.port}", "/info"), headers={"X-Token": "t"})
    assert header(info, "Authorization") == [syncws.BasicAuth("user", "pw").encode()]
    info = api.info(redirect(base, "/info"), auth=syncws.BasicAuth("a", "b"), cookies={"c": "1"})
    assert header(info, "Authorization") == [syncws.BasicAuth("a", "b").encode()]
    assert header(info, "Cookie") == ["c=1"]


def test_credentials_dropped_on_another_host(api: Client, app: AppServer) -> None:
    elsewhere = f"ws://localhost:{app.port}/info"  # same server, another host name
    cases: List[Tuple[str, Dict[str, Any]]] = [
        (f"ws://user:pw@127.0.0.1:{app.port}", {}),
        (f"ws://127.0.0.1:{app.port}", {"auth": syncws.BasicAuth("a", "b")}),
        (f"ws://127.0.0.1:{app.port}", {"headers": {"Authorization": "Bearer x", "Cookie": "k=v", "X-Keep": "1"}}),
        (f"ws://127.0.0.1:{app.port}", {"cookies": {"session": "s"}}),
    ]
    for base, options in cases:
        info = api.info(redirect(base, elsewhere), **options)
        assert header(info, "Host") == [f"localhost:{app.port}"]
        assert header(info, "Authorization") == [] and header(info, "Cookie") == [], options
    info = api.info(redirect(f"ws://127.0.0.1:{app.port}", elsewhere), headers={"X-Keep": "1"})
    assert header(info, "X-Keep") == ["1"], "other headers stay"


def test_wss_to_ws_downgrade_refused(
    api: Client, tls_app: AppServer, app: AppServer, client_ssl: ssl.SSLContext
) -> None:
    with pytest.raises(syncws.RedirectError, match="drop TLS") as err:
        api.connect(redirect(f"wss://localhost:{tls_app.port}", f"ws://localhost:{app.port}/info"), ssl=client_ssl)
    assert err.value.status == 302
    info = api.info(redirect(f"wss://localhost:{tls_app.port}", "/info"), ssl=client_ssl)
    assert info["path"] == "/info"


def test_ws_to_wss_upgrade_followed(api: Client, tls_app: AppServer, app_url: str, client_ssl: ssl.SSLContext) -> None:
    info = api.info(redirect(app_url, f"wss://localhost:{tls_app.port}/info?secure=1"), ssl=client_ssl)
    assert info["path"] == "/info?secure=1"


def test_bad_location(api: Client, app_url: str) -> None:
    with pytest.raises(syncws.RedirectError, match="cannot follow"):
        api.connect(redirect(app_url, "ftp://127.0.0.1/"))


def test_redirect_other_statuses_not_followed(api: Client, app_url: str) -> None:
    with pytest.raises(syncws.WSServerHandshakeError) as err:
        api.connect(app_url + "/status/300")
    assert err.value.status == 300 and not isinstance(err.value, syncws.RedirectError)


def test_sock_cannot_follow(api: Client, app: AppServer) -> None:
    sock = socket.create_connection(("127.0.0.1", app.port))
    with pytest.raises(syncws.RedirectError, match="sock="):
        api.connect(f"ws://127.0.0.1:{app.port}/loop", sock=sock)
