// URLPattern (WHATWG URL Pattern Standard): urlpattern-polyfill, bundled. It parses and
// canonicalises with the global URL (the url chunk).
import { URLPattern } from "urlpattern-polyfill/urlpattern";
sr.install({ __proto__: null, URLPattern });
