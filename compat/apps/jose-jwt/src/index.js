// jose: sign and verify JWTs with HS256 and RS256 (a fixed key in the app), JWK import/export and thumbprints.
import { SignJWT, jwtVerify, importJWK, exportJWK, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, errors } from "jose";

const RSA_PRIVATE = {"kty":"RSA","n":"w8FRuzRowgm-hZxmCrdp4YGrHUHFe36Ag-h7ewGlRadLOW5XobtjkvPyEcBG_y0S3T2md0PxVQZ118u7zxkl5Iz6H3u353VLPS8bQI1X8jT0M96f-j29nn54FDngkxovZXx6MBts7GJIcdwLHM3uq3g0ZyHjc-76pi9C7XmR2wyWfgx0kb5a9N0HKThdkog5WchngIX5_9O92xlsnEc7FHypf3nmczZh110dyuzcOcWAqgTi5tvkuSKPg9nXODDhlMqkH5o8_2eAa22khvLxHZRyXgp2utg0lsNOBO9SiLImzZOSoBf5eGibkM8Ro2xRlrcA2JYt640vgRTe53QGvw","e":"AQAB","d":"EiKdR0oeMGfFskwgefqvAPjJ2P6IZJ3-GvpVQjqPTKoogmwSC0Y4fdtCwFk_WpGa70swWlk9iOJ91V2nCxMp2wgiffswuO05aLQuAqd1j9dPDmUgDgddQ0s1Ja6M-yPQY0cKbN2FlEqwqne3wdXkOBd9R1aw40MvDmlPen-qPxA8Y_yRRfS8fDLaLR65lS40UXSZZe2PMpRD_5o5fYJbmDweMVt_D4KoQwp74BzDe1u3HM8vXv_P7oOtAB2uB2GnGotC5FA_cJN5XjitjWL_JlI3J1HaZIV1xFG_vczxme9dGve82R_AuTVBaEXMdhse3Wph6JXLUI0FkERMcUqIbQ","p":"8N6mVcgxAAObFl_laX_rUB9NHsKOxM-kGeeR6x5sS7V4qvw0YVYXOLSuE0QZds8MQf6sZLNtABR_aSKjlUOWprXP-R6rXR9F4Og__6vJgEhwdE1izznhNFbSMPrsUw08ufkjAHSiCkSs7ghcEurPdtwj1CE9WQES-E3pDoaH3dU","q":"0A0yP1DmHQbqbxyPc1QKKJgx7LJJt8PTXFytbbpTOaO2lXDLsKB_B9amvQDy01rcjv241KE4lqrvssubEO_fVnWNolCN6ECmGvtoWJlyZ4Wf5J4SyNxndjwKfmTo8dN_wO73twxW2D7NVv1iCP39jytE96zMIks1gRSbn-g1GEM","dp":"KJnvQdBv6gexkbDyc7kbSjMshb3X4Pb7O16caxyCtrRNNc0zayDe4zEZkqfM_wjhkRJDrunLutK5s1giaNuuvkUxXFW-HwFRfxrHBurHGXecdQ5CVJn2CyODZLw3L7ywesyzCLWgRsjSuYDxPEMWW3u6ElzUAXe74d0IJumoZ00","dq":"bVDxvOkB7_CJT5Z_HUbkC45kdQz8xOzE6rvbeFM1lYyazAy3SfgapwC3HYoZDMqqJwvTiQ2pESmBxr1Kneybue8MW2PeHFGTtYuxuRPvU8uXRuVz00xTpIFJtj3JU_8gGjy1td1q6DafZ_y8_SKPjyFaHJUTsVU5KLiuSKgW9cc","qi":"lWsNWZbJn8Fe4xrkE9szqQjE1wciKscPdhk9ktGS5kWubbueIO2rzNPTqp_9vmzCcnTH0-Xt3WoFo5pLgySo0o8LGBKgABDn7zv2-XiWFHqhj5zzq1Dv-4OaQcgT5b87C05WlCKivN-fJVdWyLbml1crXJC19fUUBVqP1wWmT9o"};
const HMAC = new TextEncoder().encode("a-32-byte-secret-for-hs256-tests");
const CLAIMS = { sub: "user-7", scope: "read write" };

async function rsaKeys() {
  const priv = await importJWK({ ...RSA_PRIVATE, alg: "RS256" }, "RS256");
  const { kty, n, e } = RSA_PRIVATE;
  const pub = await importJWK({ kty, n, e, alg: "RS256" }, "RS256");
  return { priv, pub, publicJwk: { kty, n, e } };
}
const token = (alg, key) => new SignJWT(CLAIMS).setProtectedHeader({ alg, kid: "k1" }).setIssuedAt(1700000000)
  .setIssuer("urn:compat").setAudience("urn:app").setExpirationTime(4102444800).sign(key);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const json = (v, status = 200) => Response.json(v, { status });
    try {
      if (url.pathname === "/hs256") {
        const t = await token("HS256", HMAC);
        const { payload, protectedHeader } = await jwtVerify(t, HMAC, { issuer: "urn:compat", audience: "urn:app" });
        return json({ token: t, payload, protectedHeader });
      }
      if (url.pathname === "/rs256") {
        const { priv, pub } = await rsaKeys();
        const t = await token("RS256", priv);
        const { payload } = await jwtVerify(t, pub, { issuer: "urn:compat" });
        return json({ token: t, payload, header: decodeProtectedHeader(t) });
      }
      if (url.pathname === "/verify") {
        const t = await request.text();
        const { pub } = await rsaKeys();
        const { payload } = await jwtVerify(t, pub);
        return json({ ok: true, payload });
      }
      if (url.pathname === "/jwk") {
        const { pub, publicJwk } = await rsaKeys();
        return json({ exported: await exportJWK(pub), thumbprint: await calculateJwkThumbprint(publicJwk) });
      }
      if (url.pathname === "/decode") return json(decodeJwt(await request.text()));
      return json({ error: "no route" }, 404);
    } catch (e) {
      return json({ ok: false, name: e.name, code: e.code ?? null, message: e.message, isJose: e instanceof errors.JOSEError }, 401);
    }
  },
};
