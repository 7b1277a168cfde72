// URL and URLSearchParams: whatwg-url-minimum (the WHATWG URL Standard reference
// implementation without its Unicode IDNA tables).
import { URL, URLSearchParams } from "whatwg-url-minimum";
Object.defineProperty(globalThis, "URL", { value: URL, writable: true, configurable: true });
Object.defineProperty(globalThis, "URLSearchParams", { value: URLSearchParams, writable: true, configurable: true });
