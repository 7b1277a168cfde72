"""Static assets (shardrun/assets): files, ETags, conditional requests, ranges, redirects, and no way out."""

from __future__ import annotations

import email.utils
import os
from pathlib import Path

import pytest

from shardrun.assets import AssetConfig, AssetLimits, Assets, StaticFiles, resolve_directory
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HttpRequest
from shardrun.workers import Registry

SECRET = b"tenant secret: never served"


@pytest.fixture
def site(tmp_path: Path) -> Assets:
    """A worker folder with public/ (the assets), its worker.toml beside it and a secret above it."""
    folder = tmp_path / "workers" / "site"
    pub = folder / "public"
    (pub / "docs").mkdir(parents=True)
    (pub / "css").mkdir()
    (pub / ".well-known").mkdir()
    (pub / "index.html").write_text("<h1>home</h1>")
    (pub / "about.html").write_text("<p>about</p>")
    (pub / "docs" / "index.html").write_text("<p>docs</p>")
    (pub / "css" / "site.css").write_text("body{}")
    (pub / "app.js").write_text("console.log(1)")
    (pub / "data.bin").write_bytes(bytes(range(256)) * 4)
    (pub / "empty.txt").write_bytes(b"")
    (pub / "404.html").write_text("<p>lost</p>")
    (pub / ".env").write_text("TOKEN=x")
    (pub / ".well-known" / "security.txt").write_text("Contact: x")
    (folder / "worker.toml").write_text('[secrets]\nAPI_KEY = "k"\n')
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.txt").write_bytes(SECRET)
    cfg = AssetConfig(directory="public")
    return Assets(resolve_directory(folder, cfg), cfg)


def get(files: StaticFiles, a: Assets, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    return files.match(a, method, path, "", list((headers or {}).items()))


def hdr(res, name: str) -> str | None:
    return next((v for k, v in res.headers if k == name), None)


def test_a_file_with_type_etag_and_last_modified(site):
    files = StaticFiles()
    res = get(files, site, "/css/site.css")
    assert res.status == 200 and res.body == b"body{}"
    assert hdr(res, "content-type") == "text/css; charset=utf-8"
    assert hdr(res, "etag").startswith('"') and not hdr(res, "etag").startswith('W/"')
    mtime = os.stat(site.root / "css" / "site.css").st_mtime
    assert hdr(res, "last-modified") == email.utils.formatdate(mtime, usegmt=True)
    assert hdr(res, "accept-ranges") == "bytes"
    assert hdr(get(files, site, "/app.js"), "content-type") == "text/javascript; charset=utf-8"
    assert hdr(get(files, site, "/data.bin"), "content-type") == "application/octet-stream"


def test_the_etag_follows_the_content(site):
    files = StaticFiles()
    first = hdr(get(files, site, "/app.js"), "etag")
    assert hdr(get(files, site, "/app.js"), "etag") == first
    (site.root / "app.js").write_text("console.log(2)")
    assert hdr(get(files, site, "/app.js"), "etag") != first


def test_if_none_match_and_if_modified_since_give_304(site):
    files = StaticFiles()
    full = get(files, site, "/about")
    etag, modified = hdr(full, "etag"), hdr(full, "last-modified")
    for h in ({"if-none-match": etag}, {"if-none-match": f'"nope", W/{etag}'}, {"if-none-match": "*"}):
        res = get(files, site, "/about", h)
        assert res.status == 304 and res.body == b"" and hdr(res, "etag") == etag
    assert get(files, site, "/about", {"if-none-match": '"other"'}).status == 200
    assert get(files, site, "/about", {"if-modified-since": modified}).status == 304
    assert get(files, site, "/about", {"if-modified-since": "Mon, 01 Jan 1990 00:00:00 GMT"}).status == 200
    assert get(files, site, "/about", {"if-modified-since": "yesterday"}).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    assert get(files, site, "/about", {"if-none-match": '"other"', "if-modified-since": modified}).status == 200


def test_single_ranges_206_and_416(site):
    files = StaticFiles()
    data = (site.root / "data.bin").read_bytes()
    n = len(data)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=1000-": (1000, n - 1),
        "bytes=-24": (n - 24, n - 1),
        "bytes=10-99999": (10, n - 1),
    }
    for value, (a, b) in cases.items():
        res = get(files, site, "/data.bin", {"range": value})
        assert res.status == 206, value
        assert res.body == data[a : b + 1]
        assert hdr(res, "content-range") == f"bytes {a}-{b}/{n}"
    for value in ("bytes=5000-", "bytes=-0", f"bytes={n}-{n + 5}"):
        res = get(files, site, "/data.bin", {"range": value})
        assert res.status == 416 and hdr(res, "content-range") == f"bytes */{n}", value
    assert get(files, site, "/empty.txt", {"range": "bytes=0-"}).status == 416
    # several ranges, a malformed one, another unit: the whole file
    for value in ("bytes=0-1,5-6", "bytes=9-3", "items=0-1", "bytes=x-"):
        res = get(files, site, "/data.bin", {"range": value})
        assert res.status == 200 and res.body == data, value
    etag = hdr(get(files, site, "/data.bin"), "etag")
    assert get(files, site, "/data.bin", {"range": "bytes=0-1", "if-range": etag}).status == 206
    assert get(files, site, "/data.bin", {"range": "bytes=0-1", "if-range": '"old"'}).status == 200
    # HEAD ignores Range
    assert get(files, site, "/data.bin", {"range": "bytes=0-1"}, method="HEAD").status == 200


def test_only_get_and_head(site):
    files = StaticFiles()
    assert get(files, site, "/about.html", method="HEAD").status == 307
    assert get(files, site, "/app.js", method="HEAD").body == b"console.log(1)"  # the front door sends the head only
    assert get(files, site, "/app.js", method="POST") is None


def test_html_handling_auto_trailing_slash(site):
    files = StaticFiles()
    assert get(files, site, "/").body == b"<h1>home</h1>"
    assert get(files, site, "/about").body == b"<p>about</p>"
    assert get(files, site, "/docs/").body == b"<p>docs</p>"
    for path, location in (
        ("/about.html", "/about"),
        ("/index.html", "/"),
        ("/docs", "/docs/"),
        ("/docs/index.html", "/docs/"),
        ("/about/", "/about"),
    ):
        res = get(files, site, path)
        assert res.status == 307 and hdr(res, "location") == location, path
    res = files.match(site, "GET", "/docs", "a=1", [], mount="/w/site")
    assert hdr(res, "location") == "/w/site/docs/?a=1"
    assert get(files, site, "/nothing") is None


def test_html_handling_none(site):
    files = StaticFiles()
    a = Assets(site.root, AssetConfig(directory="public", html_handling="none"))
    assert get(files, a, "/about") is None
    assert get(files, a, "/about.html").status == 200
    assert get(files, a, "/") is None


def test_not_found_handling(site):
    files = StaticFiles()
    plain = files.not_found(site, "GET", "/missing", [])
    assert plain.status == 404 and b"E_NOT_FOUND" in plain.body
    page = Assets(site.root, AssetConfig(directory="public", not_found_handling="404-page"))
    res = files.not_found(page, "GET", "/docs/missing/deeper", [])
    assert res.status == 404 and res.body == b"<p>lost</p>"
    spa = Assets(site.root, AssetConfig(directory="public", not_found_handling="single-page-application"))
    res = files.not_found(spa, "GET", "/app/route/42", [])
    assert res.status == 200 and res.body == b"<h1>home</h1>"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/docs/../../secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/docs%5c..%5c..%5csecret.txt",
        "/index.html%00.png",
        "/%00",
        "/./index.html",
        "//etc/passwd",
        "/.env",
        "/%2eenv",
        "/docs//index.html",
        "/%ff%fe",
        "/" + "a/" * 40 + "x",
        "/" + "a" * 2000,
    ],
)
def test_no_path_escapes_the_directory(site, path):
    files = StaticFiles()
    assert get(files, site, path) is None
    res = files.fetch(site, HttpRequest("GET", "http://x" + path.replace("\\", "%5c")))
    assert res.status == 404 and SECRET not in res.body


def test_symlinks_are_not_followed(site, tmp_path):
    files = StaticFiles()
    os.symlink(tmp_path / "secret.txt", site.root / "link.txt")
    os.symlink(tmp_path / "outside", site.root / "linkdir")
    os.symlink(site.root / "app.js", site.root / "inside.js")  # even one that stays inside
    for path in ("/link.txt", "/linkdir/x.txt", "/inside.js"):
        assert get(files, site, path) is None, path
    assert get(files, site, "/.well-known/security.txt").status == 200


def test_a_file_over_the_size_cap_is_refused(site):
    files = StaticFiles(AssetLimits(max_file_bytes=100))
    with pytest.raises(ShardrunError) as e:
        get(files, site, "/data.bin")
    assert e.value.code == "E_RESPONSE_TOO_LARGE" and "data.bin" in e.value.message and "100" in e.value.message
    assert get(files, site, "/app.js").status == 200


def test_fetch_is_request_in_response_out(site):
    files = StaticFiles()
    res = files.fetch(site, HttpRequest("GET", "https://site.example/css/site.css?v=3", [("If-None-Match", '"x"')]))
    assert res.status == 200 and res.body == b"body{}"
    etag = hdr(res, "etag")
    assert files.fetch(site, HttpRequest("GET", "http://x/css/site.css", [("If-None-Match", etag)])).status == 304
    assert files.fetch(site, HttpRequest("GET", "http://x/nope")).status == 404
    res = files.fetch(site, HttpRequest("PUT", "http://x/app.js", [], b"x"))
    assert res.status == 405 and hdr(res, "allow") == "GET, HEAD"


# ---- [assets] in worker.toml ---------------------------------------------------------------
def make_worker(tmp_path: Path, toml: str) -> Registry:
    folder = tmp_path / "w" / "site"
    (folder / "public").mkdir(parents=True)
    (folder / "index.js").write_text("export default {}")
    (folder / "worker.toml").write_text(toml)
    (tmp_path / "w" / "other").mkdir()
    return Registry(tmp_path / "w")


def test_worker_toml_assets(tmp_path):
    spec = make_worker(tmp_path, '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n').get("site")
    assert spec.assets is not None and spec.assets.root == (tmp_path / "w" / "site" / "public").resolve()
    assert spec.assets.config.binding == "ASSETS"


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('directory = "../other"', "leaves the worker's folder"),
        ('directory = "/etc"', "relative"),
        ('directory = "."', "the worker's folder itself"),
        ('directory = "public/.."', "the worker's folder itself"),
        ('directory = "missing"', "not a directory"),
        ('directory = "pub\\\\lic"', "relative"),
        ('directory = "public"\nbinding = "not a name"', "assets.binding"),
        ('directory = "public"\nhtml_handling = "sometimes"', "assets.html_handling"),
        ('directory = "public"\ncolour = "red"', "assets.colour"),
        ("binding = 'ASSETS'", "assets.directory"),
    ],
)
def test_bad_assets_config_is_E_WORKER_CONFIG(tmp_path, toml, words):
    reg = make_worker(tmp_path, "[assets]\n" + toml + "\n")
    with pytest.raises(ShardrunError) as e:
        reg.get("site")
    assert e.value.code == "E_WORKER_CONFIG"
    assert words in e.value.message and "site/worker.toml" in e.value.message


def test_an_assets_directory_that_is_a_symlink_out_is_refused(tmp_path):
    reg = make_worker(tmp_path, '[assets]\ndirectory = "pub"\n')
    os.symlink(tmp_path / "w" / "other", tmp_path / "w" / "site" / "pub")
    with pytest.raises(ShardrunError) as e:
        reg.get("site")
    assert e.value.code == "E_WORKER_CONFIG" and "leaves the worker's folder" in e.value.message


def test_the_assets_directory_is_not_part_of_the_script(tmp_path):
    """A site's public/ may hold any number of .js bundles: they are files to serve, not modules."""
    reg = make_worker(tmp_path, '[assets]\ndirectory = "public"\n')
    pub = tmp_path / "w" / "site" / "public"
    for i in range(300):  # more than a folder worker's module files may be
        (pub / f"chunk{i}.js").write_text(f"export const n = {i}")
    (pub / "latin1.js").write_bytes(b"\xe9t\xe9")
    spec = reg.get("site")
    assert not any(m.startswith("public/") for m in spec.script.modules)
    version = spec.version
    (pub / "chunk0.js").write_text("changed")
    (pub / "new.js").write_text("new")
    assert reg.get("site").version == version
    res = StaticFiles().match(spec.assets, "GET", "/chunk7.js", "", [])
    assert res.status == 200 and res.body == b"export const n = 7"
