"""TextDecoder for every encoding of the WHATWG Encoding Standard (js/src/encoding.js, hostfns/encoding.py).

The labels and the single-byte "no pointer" bytes are those of web-platform-tests
(encoding/resources/encodings.js and encoding/textdecoder-fatal-single-byte.any.js).
"""

from __future__ import annotations

import json

import pytest

from shardrun.runtime.hostcall import HostCallError, HostState
from shardrun.runtime.hostfns import encoding as host

from .conftest import eval_js

# encoding name -> its labels (WPT encodings.js, plus the labels the standard added since:
# the utf-8 "unicode11utf8" family, koi8-ru, ms932, and the utf-16 aliases)
LABELS: dict[str, list[str]] = {
    "utf-8": ["unicode-1-1-utf-8", "utf-8", "utf8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"],
    "ibm866": ["866", "cp866", "csibm866", "ibm866"],
    "iso-8859-2": ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2", "iso_8859-2:1987", "l2", "latin2"],
    "iso-8859-3": ["csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3", "iso_8859-3:1988", "l3", "latin3"],
    "iso-8859-4": ["csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4", "iso_8859-4:1988", "l4", "latin4"],
    "iso-8859-5": ["csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595", "iso_8859-5", "iso_8859-5:1988"],
    "iso-8859-6": ["arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114", "iso-8859-6", "iso-8859-6-e",
                   "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596", "iso_8859-6", "iso_8859-6:1987"],
    "iso-8859-7": ["csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126", "iso8859-7", "iso88597",
                   "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"],
    "iso-8859-8": ["csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138", "iso8859-8", "iso88598",
                   "iso_8859-8", "iso_8859-8:1988", "visual"],
    "iso-8859-8-i": ["csiso88598i", "iso-8859-8-i", "logical"],
    "iso-8859-10": ["csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"],
    "iso-8859-13": ["iso-8859-13", "iso8859-13", "iso885913"],
    "iso-8859-14": ["iso-8859-14", "iso8859-14", "iso885914"],
    "iso-8859-15": ["csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"],
    "iso-8859-16": ["iso-8859-16"],
    "koi8-r": ["cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"],
    "koi8-u": ["koi8-u", "koi8-ru"],
    "macintosh": ["csmacintosh", "mac", "macintosh", "x-mac-roman"],
    "windows-874": ["dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"],
    "windows-1250": ["cp1250", "windows-1250", "x-cp1250"],
    "windows-1251": ["cp1251", "windows-1251", "x-cp1251"],
    "windows-1252": ["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1",
                     "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"],
    "windows-1253": ["cp1253", "windows-1253", "x-cp1253"],
    "windows-1254": ["cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599", "iso_8859-9", "iso_8859-9:1989",
                     "l5", "latin5", "windows-1254", "x-cp1254"],
    "windows-1255": ["cp1255", "windows-1255", "x-cp1255"],
    "windows-1256": ["cp1256", "windows-1256", "x-cp1256"],
    "windows-1257": ["cp1257", "windows-1257", "x-cp1257"],
    "windows-1258": ["cp1258", "windows-1258", "x-cp1258"],
    "x-mac-cyrillic": ["x-mac-cyrillic", "x-mac-ukrainian"],
    "gbk": ["chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk", "iso-ir-58", "x-gbk"],
    "gb18030": ["gb18030"],
    "big5": ["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"],
    "euc-jp": ["cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"],
    "iso-2022-jp": ["csiso2022jp", "iso-2022-jp"],
    "shift_jis": ["csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"],
    "euc-kr": ["cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601",
               "ksc_5601", "windows-949"],
    "utf-16be": ["utf-16be", "unicodefffe"],
    "utf-16le": ["utf-16", "utf-16le", "csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff"],
    "x-user-defined": ["x-user-defined"],
}  # fmt: skip
REPLACEMENT = ["csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement"]

# WPT textdecoder-fatal-single-byte: the bytes each single-byte encoding has no code point for
NO_POINTER: dict[str, list[int]] = {
    "iso-8859-3": [0xA5, 0xAE, 0xBE, 0xC3, 0xD0, 0xE3, 0xF0],
    "iso-8859-6": [0xA1, 0xA2, 0xA3, *range(0xA5, 0xAC), 0xAE, 0xAF, *range(0xB0, 0xBB), 0xBC, 0xBD, 0xBE, 0xC0,
                   *range(0xDB, 0xE0), *range(0xF3, 0x100)],
    "iso-8859-7": [0xAE, 0xD2, 0xFF],
    "iso-8859-8": [0xA1, *range(0xBF, 0xDF), 0xFB, 0xFC, 0xFF],
    "iso-8859-8-i": [0xA1, *range(0xBF, 0xDF), 0xFB, 0xFC, 0xFF],
    "windows-874": [0xDB, 0xDC, 0xDD, 0xDE, 0xFC, 0xFD, 0xFE, 0xFF],
    "windows-1253": [0xAA, 0xD2, 0xFF],
    "windows-1255": [*range(0xD9, 0xE0), 0xFB, 0xFC, 0xFF],
    "windows-1257": [0xA1, 0xA5],
}  # fmt: skip
SINGLE_BYTE = [name for name in host.SINGLE_BYTE]


def test_every_label_names_its_encoding_with_ascii_whitespace_and_case_ignored():
    got = eval_js(
        f"const labels = {json.dumps(LABELS)}, out = {{}};"
        r"""
      for (const [name, ls] of Object.entries(labels)) for (const l of ls)
        for (const v of [l, l.toUpperCase(), " \t\n\f\r" + l + "\r\n "]) {
          const e = new TextDecoder(v).encoding;
          if (e !== name) out[JSON.stringify(v)] = e;
        }
      return out"""
    )
    assert got == {}


def test_unknown_and_replacement_labels_and_non_ascii_whitespace_are_range_errors():
    bad = [*REPLACEMENT, "", "utf-9", "\u00a0utf-8", "utf-8\u2028", "\u180eutf-8", "\u212aoi8-r", "utf-8\0", "\vutf-8"]
    got = eval_js(
        f"const bad = {json.dumps(bad)};"
        "return bad.map((l) => { try { new TextDecoder(l); return 'no error' } catch (e) { return e.name } })"
    )
    assert got == ["RangeError"] * len(bad)


def test_single_byte_encodings_decode_every_byte_and_fatal_refuses_only_the_unmapped_ones():
    got = eval_js(
        f"const names = {json.dumps(SINGLE_BYTE)}, out = {{}};"
        r"""
      for (const name of names) {
        const bad = [], text = new TextDecoder(name).decode(Uint8Array.from({length: 256}, (_, i) => i));
        for (let i = 0; i < 256; i++) {
          try { new TextDecoder(name, { fatal: true }).decode(new Uint8Array([i])) } catch (e) { bad.push(e.name === 'TypeError' ? i : e.name) }
        }
        out[name] = [bad, text.length, text.slice(0, 128) === String.fromCharCode(...Array(128).keys())];
      }
      return out"""
    )
    for name in SINGLE_BYTE:
        assert got[name] == [NO_POINTER.get(name, []), 256, True], name


def test_single_byte_tables_follow_the_standard_where_python_differs():
    got = eval_js(r"""
      const d = (l, bytes) => [...new TextDecoder(l).decode(new Uint8Array(bytes))].map((c) => c.codePointAt(0));
      return [d('koi8-u', [0xae, 0xbe]), d('windows-1252', [0x80, 0x81, 0x9d, 0x9f]), d('windows-1255', [0xca]),
              d('windows-874', [0x81, 0xa1]), d('iso-8859-1', [0xe9]), d('x-user-defined', [0x41, 0x80, 0xff]),
              d('windows-1253', [0xaa])]""")
    assert got == [
        [0x45E, 0x40E],
        [0x20AC, 0x81, 0x9D, 0x178],
        [0x5BA],
        [0x81, 0xE01],
        [0xE9],
        [0x41, 0xF780, 0xF7FF],
        [0xFFFD],
    ]


MULTI = {  # encoding -> (bytes, text)
    "gbk": ([0x80, 0xD6, 0xD0, 0xCE, 0xC4, 0x41], "€中文A"),
    "gb18030": ([0x81, 0x30, 0x81, 0x30, 0xD6, 0xD0, 0x90, 0x30, 0x81, 0x30], "\u0080中\U00010000"),
    "big5": ([0xA4, 0x40, 0xA4, 0xA4, 0x41, 0x87, 0x40], "一中A\u43f0"),
    "euc-jp": ([0xA4, 0xA2, 0x8E, 0xB1, 0x8F, 0xB0, 0xA1, 0x41], "あｱ丂A"),
    "iso-2022-jp": (list(b'a\x1b$B$"\x1b(I1\x1b(Bz'), "aあｱz"),
    "shift_jis": ([0x82, 0xA0, 0xB1, 0x88, 0x9F, 0x41], "あｱ亜A"),
    "euc-kr": ([0xB0, 0xA1, 0x81, 0x41, 0x41], "가갂A"),
}


def test_multi_byte_encodings_decode_whole_and_byte_by_byte():
    got = eval_js(
        f"const cases = {json.dumps({k: v[0] for k, v in MULTI.items()})}, out = {{}};"
        r"""
      for (const [name, bytes] of Object.entries(cases)) {
        const whole = new TextDecoder(name).decode(new Uint8Array(bytes));
        const d = new TextDecoder(name);
        let pieces = '';
        for (const b of bytes) pieces += d.decode(new Uint8Array([b]), { stream: true });
        pieces += d.decode();
        out[name] = [whole, pieces];
      }
      return out"""
    )
    assert got == {name: [text, text] for name, (_, text) in MULTI.items()}


def test_multi_byte_errors_replace_or_throw_and_reset_the_decoder():
    got = eval_js(r"""
      const out = {}, leads = { gbk: 0x81, gb18030: 0x81, big5: 0xa4, 'euc-jp': 0xa4, 'iso-2022-jp': 0x1b, shift_jis: 0x82, 'euc-kr': 0xb0 };
      for (const [name, lead] of Object.entries(leads)) {
        const bad = name === 'iso-2022-jp' ? [0x1b, 0x24, 0x42, 0x24] : [0x41, 0xff], r = out[name] = [];
        r.push(new TextDecoder(name).decode(new Uint8Array(bad)).includes('\ufffd'));
        const f = new TextDecoder(name, { fatal: true });
        try { f.decode(new Uint8Array(bad)); r.push('no error') } catch (e) { r.push(e.name) }
        r.push(f.decode(new Uint8Array([lead]), { stream: true }));
        try { f.decode(); r.push('no error at the end') } catch (e) { r.push(e.name) }
        r.push(f.decode(new Uint8Array([0x41])));   // usable again after the error
      }
      return out""")
    assert got == {name: [True, "TypeError", "", "TypeError", "A"] for name in MULTI}


def test_a_truncated_multi_byte_sequence_at_the_end_is_an_error():
    got = eval_js(r"""
      return ['shift_jis', 'euc-kr', 'big5', 'gbk'].map((n) => {
        try { new TextDecoder(n, { fatal: true }).decode(new Uint8Array([0x41, 0x82])); return 'no error' } catch (e) { return e.name }
      }).concat([new TextDecoder('shift_jis').decode(new Uint8Array([0x41, 0x82]))])""")
    assert got == ["TypeError"] * 4 + ["A\ufffd"]


def test_utf16_surrogates_odd_bytes_bom_and_streaming():
    got = eval_js(r"""
      const d = (l, b, o) => new TextDecoder(l, o).decode(new Uint8Array(b));
      const out = [
        d('utf-16le', [0x41, 0, 0x3d, 0xd8, 0x00, 0xde]), d('utf-16be', [0, 0x41, 0xd8, 0x3d, 0xde, 0]),
        d('utf-16le', [0x00, 0xd8, 0x41, 0x00]), d('utf-16le', [0x00, 0xdc, 0x41, 0x00]), d('utf-16le', [0x41, 0x00, 0x42]),
        d('utf-16le', [0xff, 0xfe, 0x41, 0]), d('utf-16be', [0xfe, 0xff, 0, 0x41]), d('utf-16le', [0xff, 0xfe, 0x41, 0], { ignoreBOM: true }),
      ];
      const s = new TextDecoder('utf-16le'), bytes = [0xff, 0xfe, 0x3d, 0xd8, 0x00, 0xde, 0x41, 0];
      let t = '';
      for (const b of bytes) t += s.decode(new Uint8Array([b]), { stream: true });
      out.push(t + s.decode());
      try { d('utf-16le', [0x00, 0xd8], { fatal: true }) } catch (e) { out.push(e.name) }
      return out""")
    assert got == [
        "A\U0001f600",
        "A\U0001f600",
        "\ufffdA",
        "\ufffdA",
        "AB"[0] + "\ufffd",
        "A",
        "A",
        "\ufeffA",
        "\U0001f600A",
        "TypeError",
    ]


def test_decode_arguments_and_attributes():
    got = eval_js(r"""
      const d = new TextDecoder('Shift_JIS', { fatal: true, ignoreBOM: true }), out = [d.encoding, d.fatal, d.ignoreBOM];
      const u = new Uint8Array([0, 0x82, 0xa0, 0]);
      out.push(d.decode(u.subarray(1, 3)), d.decode(new DataView(u.buffer, 1, 2)), d.decode(u.buffer.slice(1, 3)), d.decode());
      for (const bad of [null, 'abc', [0x41], {}]) { try { d.decode(bad); out.push('no error') } catch (e) { out.push(e.name) } }
      try { new TextDecoder('utf-8', 7) } catch (e) { out.push(e.name) }
      out.push(new TextDecoder('utf-8', null).fatal, new TextDecoder(undefined).encoding, Object.prototype.toString.call(d));
      return out""")
    assert got == ["shift_jis", True, True, "あ", "あ", "あ", "", "TypeError", "TypeError", "TypeError", "TypeError",
                   "TypeError", False, "utf-8", "[object TextDecoder]"]  # fmt: skip


def test_text_decoder_stream_with_a_legacy_encoding():
    got = eval_js(r"""
      const src = new ReadableStream({ start(c) { for (const b of [0x82, 0xa0, 0x88, 0x9f]) c.enqueue(new Uint8Array([b])); c.close() } });
      const ds = new TextDecoderStream('sjis');
      let text = '';
      for await (const s of src.pipeThrough(ds)) text += s;
      return [ds.encoding, text]""")
    assert got == ["shift_jis", "あ亜"]


def test_host_functions_refuse_bad_arguments():
    st = HostState()
    for args in [("utf-8",), ("nope",), (7,)]:
        with pytest.raises(HostCallError):
            host.table(st, *args)
    for args in [
        ("windows-1252", b"", False, False, b"", 0),
        ("shift_jis", "text", False, False, b"", 0),
        ("shift_jis", b"", False, False, b"", "mode"),
        ("shift_jis", b"", False, True, b"\x82\x82\x82\x82\x82\x82\x82\x82\x82", 0),
        ("shift_jis", b"x" * (host.MAX_DECODE_BYTES + 1), False, False, b"", 0),
    ]:
        with pytest.raises(HostCallError):
            host.decode(st, *args)
    assert host.decode(st, "shift_jis", b"\x82", False, True, b"", 0) == ["", b"\x82", 0]
    assert len(host.table(st, "koi8-r")) == 128 and len(st) == 0


def test_shift_jis_single_bytes_python_maps_to_private_use_are_errors():
    got = eval_js(r"""
      const d = (b, o) => new TextDecoder('shift_jis', o).decode(new Uint8Array(b));
      const out = [d([0xa0, 0xfd, 0xfe, 0xff, 0x80, 0xb1]), d([0xf0, 0x40])];
      try { d([0xfd], { fatal: true }) } catch (e) { out.push(e.name) }
      return out""")
    assert got == ["\ufffd\ufffd\ufffd\ufffd\x80ｱ", "\ue000", "TypeError"]


# WPT encoding/iso-2022-jp-decoder.any.js
ISO_2022_JP = [
    ([0x1B, 0x24], "\ufffd$"), ([0x1B, 0x24, 0x50], "\ufffd$P"), ([0x1B, 0x28, 0x42, 0x50], "P"),
    ([0x1B, 0x28, 0x42, 0x1B, 0x28, 0x42, 0x50], "\ufffdP"), ([0x50, 0x1B, 0x28, 0x42, 0x50], "PP"),
    ([0x5C, 0x5D, 0x7E], "\\]~"), ([0x0D, 0x0E, 0x0F, 0x10], "\x0d\ufffd\ufffd\x10"),
    ([0x1B, 0x28, 0x4A, 0x5C, 0x5D, 0x7E], "¥]‾"), ([0x1B, 0x28, 0x4A, 0x0D, 0x0E, 0x0F, 0x10], "\x0d\ufffd\ufffd\x10"),
    ([0x1B, 0x28, 0x4A, 0x1B, 0x1B, 0x28, 0x49, 0x50], "\ufffdﾐ"), ([0x1B, 0x28, 0x49, 0x50], "ﾐ"),
    ([0x1B, 0x28, 0x49, 0x1B, 0x24, 0x40, 0x50, 0x50], "\ufffd佩"), ([0x1B, 0x28, 0x49, 0x1B, 0x50], "\ufffdﾐ"),
    ([0x1B, 0x28, 0x49, 0x1B, 0x24, 0x50], "\ufffd､ﾐ"), ([0x1B, 0x28, 0x49, 0x50, 0x1B, 0x28, 0x49, 0x50], "ﾐﾐ"),
    ([0x1B, 0x28, 0x49, 0x0D, 0x0E, 0x0F, 0x10], "\ufffd\ufffd\ufffd\ufffd"), ([0x1B, 0x24, 0x40, 0x50, 0x50], "佩"),
    ([0x1B, 0x24, 0x42, 0x50, 0x50], "佩"), ([0x1B, 0x24, 0x42, 0x1B, 0x50, 0x50], "\ufffd佩"),
    ([0x1B, 0x24, 0x40, 0x1B, 0x24, 0x40], "\ufffd"), ([0x1B, 0x24, 0x40, 0x1B, 0x24, 0x40, 0x50, 0x50], "\ufffd佩"),
    ([0x1B, 0x24, 0x40, 0x1B, 0x24, 0x42, 0x50, 0x50], "\ufffd佩"), ([0x1B, 0x24, 0x40, 0x1B, 0x24, 0x50, 0x50], "\ufffdば\ufffd"),
    ([0x1B, 0x24, 0x40, 0x50, 0x1B, 0x24, 0x40, 0x50, 0x50], "\ufffd佩"), ([0x1B, 0x24, 0x40, 0x20, 0x50], "\ufffd\ufffd"),
    ([0x1B, 0x24, 0x40, 0x50, 0x20], "\ufffd"), ([0x50, 0x1B], "P\ufffd"), ([0x50, 0x1B, 0x24], "P\ufffd$"),
    ([0x50, 0x1B, 0x50], "P\ufffdP"), ([0x50, 0x1B, 0x28, 0x42], "P"), ([0x50, 0x1B, 0x28, 0x4A], "P"),
    ([0x50, 0x1B, 0x28, 0x49], "P"), ([0x50, 0x1B, 0x24, 0x40], "P"), ([0x50, 0x1B, 0x24, 0x42], "P"),
]  # fmt: skip


def test_wpt_iso_2022_jp_decoder_whole_and_byte_by_byte():
    got = eval_js(
        f"const cases = {json.dumps([c for c, _ in ISO_2022_JP])};"
        r"""
      return cases.map((bytes) => {
        const d = new TextDecoder('iso-2022-jp');
        let pieces = '';
        for (const b of bytes) pieces += d.decode(new Uint8Array([b]), { stream: true });
        return [new TextDecoder('iso-2022-jp').decode(new Uint8Array(bytes)), pieces + d.decode()];
      })"""
    )
    assert got == [[text, text] for _, text in ISO_2022_JP]


# WPT encoding/textdecoder-eof.any.js
def test_wpt_end_of_queue_handling():
    got = eval_js(r"""
      const d = (l, b, o) => new TextDecoder(l).decode(new Uint8Array(b));
      const out = [d('utf-8', [0xf0]), d('utf-8', [0xf0, 0x9f, 0x92]), d('utf-8', [0xf0, 0x9f, 0x41]), d('utf-8', [0xf0, 0x41, 0xf0]),
                   d('utf-8', [0xf0, 0x8f, 0x92]), d('big5', [0x81, 0x40]), d('big5', [0x81, 0x81]), d('big5', [0x87, 0x87, 0x40])];
      const u = new TextDecoder(), b = new TextDecoder('big5');
      out.push(u.decode(new Uint8Array([0xf0]), { stream: true }) + '|' + u.decode(new Uint8Array([0x8f]), { stream: true }) + '|' +
               u.decode(new Uint8Array([0x92]), { stream: true }) + '|' + u.decode());
      out.push(b.decode(new Uint8Array([0x81]), { stream: true }) + '|' + b.decode(new Uint8Array([0x40]), { stream: true }) + '|' + b.decode());
      return out""")
    assert got == ["\ufffd", "\ufffd", "\ufffdA", "\ufffdA\ufffd", "\ufffd\ufffd\ufffd", "\ufffd@", "\ufffd", "\ufffd@",
                   "|\ufffd\ufffd|\ufffd|", "|\ufffd@|"]  # fmt: skip


def test_euc_jp_reads_the_standards_jis0208_and_resumes_as_it_does():
    got = eval_js(r"""
      const d = (b) => new TextDecoder('euc-jp').decode(new Uint8Array(b));
      return [d([0xad, 0xa1]), d([0xa1, 0xc1]), d([0x8e, 0xb1, 0x8f, 0xb0, 0xa1]), d([0xa4, 0x41]), d([0xa4, 0xff, 0x41]),
              d([0x8f, 0x0a]), d([0x8f, 0xb0]), d([0x8e, 0x41])]""")
    assert got == ["①", "～", "ｱ丂", "\ufffdA", "\ufffdA", "\ufffd\n", "\ufffd", "\ufffdA"]


# WPT encoding/single-byte-decoder.any.js (the standard's indexes.json): code points of bytes
# 0x80-0xFF, for the encodings where Python's codec has holes or other characters
WPT_INDEXES: dict[str, list[int | None]] = {
"koi8-u":[9472,9474,9484,9488,9492,9496,9500,9508,9516,9524,9532,9600,9604,9608,9612,9616,9617,9618,9619,8992,9632,8729,8730,8776,8804,8805,160,8993,176,178,183,247,9552,9553,9554,1105,1108,9556,1110,1111,9559,9560,9561,9562,9563,1169,1118,9566,9567,9568,9569,1025,1028,9571,1030,1031,9574,9575,9576,9577,9578,1168,1038,169,1102,1072,1073,1094,1076,1077,1092,1075,1093,1080,1081,1082,1083,1084,1085,1086,1087,1103,1088,1089,1090,1091,1078,1074,1100,1099,1079,1096,1101,1097,1095,1098,1070,1040,1041,1062,1044,1045,1060,1043,1061,1048,1049,1050,1051,1052,1053,1054,1055,1071,1056,1057,1058,1059,1046,1042,1068,1067,1047,1064,1069,1065,1063,1066],
"windows-1255":[8364,129,8218,402,8222,8230,8224,8225,710,8240,138,8249,140,141,142,143,144,8216,8217,8220,8221,8226,8211,8212,732,8482,154,8250,156,157,158,159,160,161,162,163,8362,165,166,167,168,169,215,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,247,187,188,189,190,191,1456,1457,1458,1459,1460,1461,1462,1463,1464,1465,1466,1467,1468,1469,1470,1471,1472,1473,1474,1475,1520,1521,1522,1523,1524,None,None,None,None,None,None,None,1488,1489,1490,1491,1492,1493,1494,1495,1496,1497,1498,1499,1500,1501,1502,1503,1504,1505,1506,1507,1508,1509,1510,1511,1512,1513,1514,None,None,8206,8207,None],
"windows-1256":[8364,1662,8218,402,8222,8230,8224,8225,710,8240,1657,8249,338,1670,1688,1672,1711,8216,8217,8220,8221,8226,8211,8212,1705,8482,1681,8250,339,8204,8205,1722,160,1548,162,163,164,165,166,167,168,169,1726,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,1563,187,188,189,190,1567,1729,1569,1570,1571,1572,1573,1574,1575,1576,1577,1578,1579,1580,1581,1582,1583,1584,1585,1586,1587,1588,1589,1590,215,1591,1592,1593,1594,1600,1601,1602,1603,224,1604,226,1605,1606,1607,1608,231,232,233,234,235,1609,1610,238,239,1611,1612,1613,1614,244,1615,1616,247,1617,249,1618,251,252,8206,8207,1746],
"iso-8859-7":[128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,8216,8217,163,8364,8367,166,167,168,169,890,171,172,173,None,8213,176,177,178,179,900,901,902,183,904,905,906,187,908,189,910,911,912,913,914,915,916,917,918,919,920,921,922,923,924,925,926,927,928,929,None,931,932,933,934,935,936,937,938,939,940,941,942,943,944,945,946,947,948,949,950,951,952,953,954,955,956,957,958,959,960,961,962,963,964,965,966,967,968,969,970,971,972,973,974,None],
"windows-1258":[8364,129,8218,402,8222,8230,8224,8225,710,8240,138,8249,338,141,142,143,144,8216,8217,8220,8221,8226,8211,8212,732,8482,154,8250,339,157,158,376,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191,192,193,194,258,196,197,198,199,200,201,202,203,768,205,206,207,272,209,777,211,212,416,214,215,216,217,218,219,220,431,771,223,224,225,226,259,228,229,230,231,232,233,234,235,769,237,238,239,273,241,803,243,244,417,246,247,248,249,250,251,252,432,8363,255],
"windows-1257":[8364,129,8218,131,8222,8230,8224,8225,136,8240,138,8249,140,168,711,184,144,8216,8217,8220,8221,8226,8211,8212,152,8482,154,8250,156,175,731,159,160,None,162,163,164,None,166,167,216,169,342,171,172,173,174,198,176,177,178,179,180,181,182,183,248,185,343,187,188,189,190,230,260,302,256,262,196,197,280,274,268,201,377,278,290,310,298,315,352,323,325,211,332,213,214,215,370,321,346,362,220,379,381,223,261,303,257,263,228,229,281,275,269,233,378,279,291,311,299,316,353,324,326,243,333,245,246,247,371,322,347,363,252,380,382,729],
"windows-874":[8364,129,130,131,132,8230,134,135,136,137,138,139,140,141,142,143,144,8216,8217,8220,8221,8226,8211,8212,152,153,154,155,156,157,158,159,160,3585,3586,3587,3588,3589,3590,3591,3592,3593,3594,3595,3596,3597,3598,3599,3600,3601,3602,3603,3604,3605,3606,3607,3608,3609,3610,3611,3612,3613,3614,3615,3616,3617,3618,3619,3620,3621,3622,3623,3624,3625,3626,3627,3628,3629,3630,3631,3632,3633,3634,3635,3636,3637,3638,3639,3640,3641,3642,None,None,None,None,3647,3648,3649,3650,3651,3652,3653,3654,3655,3656,3657,3658,3659,3660,3661,3662,3663,3664,3665,3666,3667,3668,3669,3670,3671,3672,3673,3674,3675,None,None,None,None],
"iso-8859-8":[128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,None,162,163,164,165,166,167,168,169,215,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,247,187,188,189,190]+[None]*32+[8215,1488,1489,1490,1491,1492,1493,1494,1495,1496,1497,1498,1499,1500,1501,1502,1503,1504,1505,1506,1507,1508,1509,1510,1511,1512,1513,1514,None,None,8206,8207,None],
"windows-1253":[8364,129,8218,402,8222,8230,8224,8225,136,8240,138,8249,140,141,142,143,144,8216,8217,8220,8221,8226,8211,8212,152,8482,154,8250,156,157,158,159,160,901,902,163,164,165,166,167,168,169,None,171,172,173,174,8213,176,177,178,179,900,181,182,183,904,905,906,187,908,189,910,911,912,913,914,915,916,917,918,919,920,921,922,923,924,925,926,927,928,929,None,931,932,933,934,935,936,937,938,939,940,941,942,943,944,945,946,947,948,949,950,951,952,953,954,955,956,957,958,959,960,961,962,963,964,965,966,967,968,969,970,971,972,973,974,None],
}  # fmt: skip


def test_single_byte_tables_equal_the_standards_indexes():
    got = eval_js(
        f"const names = {json.dumps(list(WPT_INDEXES))};"
        r"""
      const bytes = Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i);
      return names.map((n) => [...new TextDecoder(n).decode(bytes)].map((c) => c.codePointAt(0)))"""
    )
    for name, points in zip(WPT_INDEXES, got, strict=True):
        assert points == [0xFFFD if p is None else p for p in WPT_INDEXES[name]], name


def test_long_utf8_goes_through_the_host_with_the_same_answers_as_short():
    got = eval_js(r"""
      const enc = new TextEncoder(), out = [];
      const pad = 'x'.repeat(100);   // long enough for the host path
      for (const bytes of [[0x61, 0xff, 0x62, 0xc3], [0xc0, 0xaf], [0xf0, 0x8f, 0x92], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
                           [0xef, 0xbb, 0xbf, 0x41], [0xe2, 0x82, 0xac]]) {
        const short = new TextDecoder().decode(new Uint8Array(bytes));
        const long = new TextDecoder().decode(new Uint8Array([...bytes, ...enc.encode(pad)]));
        out.push(long === short + pad);
      }
      const s = 'h\u00e9llo \u20ac \ud83d\ude00 \ud800 end '.repeat(20);
      const bytes = enc.encode(s);
      out.push(new TextDecoder().decode(bytes) === s.toWellFormed(), bytes.length === [...s.toWellFormed()].reduce((n, c) => n + enc.encode(c).length, 0));
      const d = new TextDecoder(), split = bytes.length >> 1;   // a sequence cut in two, streamed
      out.push(d.decode(bytes.subarray(0, split + 1), { stream: true }) + d.decode(bytes.subarray(split + 1)) === s.toWellFormed());
      try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([...enc.encode(pad), 0xff])); out.push('no error') } catch (e) { out.push(e.name) }
      return out""")
    assert got == [True] * 10 + ["TypeError"]


def test_encode_into_long_strings_stops_at_a_whole_character():
    got = eval_js(r"""
      const e = new TextEncoder(), out = [], s = 'a\u20ac\ud83d\ude00\ud800'.repeat(30);   // long: the host path
      for (const room of [0, 1, 3, 4, 5, 8, 9, 11, 300, 1000]) {
        const d = new Uint8Array(room), r = e.encodeInto(s, d);
        let read = 0, written = 0;   // the answer, character by character
        for (const ch of s) { const n = e.encode(ch).length; if (written + n > room) break; written += n; read += ch.length }
        out.push([r.read === read, r.written === written, new TextDecoder().decode(d.subarray(0, written)) === s.slice(0, read).toWellFormed()]);
      }
      try { e.encodeInto('abc', [1, 2]); out.push('no error') } catch (err) { out.push(err.name) }
      return out""")
    assert got == [[True, True, True]] * 10 + ["TypeError"]


def test_errors_resume_where_the_standard_does_whole_or_streamed():
    got = eval_js(r"""
      const cases = [['shift_jis', [0x41, 0x82, 0xff, 0x41, 0x81]], ['big5', [0x87, 0x87, 0x40, 0x81, 0x81, 0x41]],
                     ['gb18030', [0x81, 0x30, 0x41, 0x81, 0xff, 0x80, 0x41]], ['euc-kr', [0xb0, 0xff, 0xb0, 0x41]],
                     ['euc-jp', [0x8f, 0xb0, 0xff, 0xa4, 0x0a, 0x8e]]];
      return cases.map(([name, bytes]) => {
        const d = new TextDecoder(name);
        let s = '';
        for (const b of bytes) s += d.decode(new Uint8Array([b]), { stream: true });
        return [new TextDecoder(name).decode(new Uint8Array(bytes)), s + d.decode()];
      })""")
    expected = ["A\ufffdA\ufffd", "\ufffd@\ufffdA", "\ufffd0A\ufffd€A", "\ufffd\uce9a", "\ufffd\ufffd\n\ufffd"]
    assert got == [[e, e] for e in expected]


def test_gb_0xa3a0_is_the_ideographic_space_as_in_the_standard_and_workerd():
    got = eval_js(r"""
      return ['gbk', 'gb18030'].map((n) => new TextDecoder(n).decode(new Uint8Array([0xa3, 0xa0, 0xa6, 0xd9])))""")
    assert got == ["\u3000\ue78d", "\u3000\ue78d"]
