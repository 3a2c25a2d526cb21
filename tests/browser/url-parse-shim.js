// ES-module stand-in for url-parse (CommonJS) in the browser tests: tus-js-client only calls
// `new URL(link, origin).toString()`, which the WHATWG URL does the same way.
export default URL;
