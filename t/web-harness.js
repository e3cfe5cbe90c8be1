// web-harness.js: runs the script of web/index.html under node against a
// live asud, with just enough of a DOM and of EventSource for it, the way
// a browser would: node web-harness.js PAGE BASE HASH. It follows the
// build HASH as a person would (the hash in the address), waits for the
// page to show the end, and prints what the page shows as JSON.
"use strict";

const fs = require("fs");
const [page, base, hash] = process.argv.slice(2);
const html = fs.readFileSync(page, "utf8");
const script = html.match(/<script>([\s\S]*)<\/script>/)[1];

// One element: text, children, attributes the page uses.
function element(tag, id) {
	return {
		tag, id, children: [], listeners: {}, hidden: false, value: "",
		href: "", scrollTop: 0, clientHeight: 100, scrollHeight: 0,
		_text: "",
		get textContent() {
			return this._text + this.children.map(
			    (c) => c.textContent).join("");
		},
		set textContent(v) { this._text = String(v); this.children = []; },
		appendChild(c) { this.children.push(c); return c; },
		replaceChildren() { this.children = []; this._text = ""; },
		querySelector(sel) { return ids[sel] || element(sel); },
		addEventListener(ev, fn) { this.listeners[ev] = fn; },
	};
}
const ids = {};
for (const m of html.matchAll(/<(\w+)[^>]*\bid="([^"]+)"/g))
	ids[m[2]] = element(m[1], m[2]);
ids.tbody = ids.tbody || element("tbody", "tbody");

const windowListeners = {};
global.document = {
	getElementById: (id) => ids[id],
	createElement: (tag) => element(tag),
};
global.location = { hash: "#" + hash };
global.window = {
	addEventListener: (ev, fn) => { windowListeners[ev] = fn; },
};
const realFetch = fetch;
global.fetch = (url, opts) => realFetch(base + url, opts);

// EventSource over a streamed fetch: "event:" and "data:" lines.
class EventSource {
	constructor(url) {
		this.readyState = EventSource.CONNECTING;
		this.listeners = {};
		this.onerror = null;
		this.abort = new AbortController();
		this.run(url).catch(() => {});
	}
	addEventListener(ev, fn) { this.listeners[ev] = fn; }
	close() { this.readyState = EventSource.CLOSED; this.abort.abort(); }
	fail() {
		this.readyState = EventSource.CLOSED;
		if (this.onerror)
			this.onerror();
	}
	async run(url) {
		const res = await realFetch(base + url,
		    { signal: this.abort.signal });
		if (res.status !== 200 || !/^text\/event-stream/.test(
		    res.headers.get("content-type") || ""))
			return this.fail();
		this.readyState = EventSource.OPEN;
		const dec = new TextDecoder();
		let buf = "";
		for await (const chunk of res.body) {
			buf += dec.decode(chunk, { stream: true });
			let end;
			while ((end = buf.indexOf("\n\n")) !== -1) {
				const block = buf.slice(0, end);
				buf = buf.slice(end + 2);
				let ev = "message", data = [];
				for (const line of block.split("\n")) {
					if (line.startsWith("event: "))
						ev = line.slice(7);
					else if (line.startsWith("data: "))
						data.push(line.slice(6));
				}
				const fn = this.listeners[ev];
				if (fn && this.readyState !== EventSource.CLOSED)
					fn({ data: data.join("\n") });
			}
		}
	}
}
EventSource.CONNECTING = 0;
EventSource.OPEN = 1;
EventSource.CLOSED = 2;
global.EventSource = EventSource;

// Links anywhere below an element, depth first.
function links(el) {
	return (el.href ? [el.href] : []).concat(...el.children.map(links));
}

// Reports what the page shows once the build has ended there.
function report() {
	console.log(JSON.stringify({
		state: ids.state.textContent,
		log: ids.log.textContent,
		images: links(ids.images),
		queue: ids["queue-summary"].textContent,
	}));
	process.exit(0);
}

const deadline = Date.now() + 120000;
(function wait() {
	const s = ids.state.textContent;
	if ((/^done/.test(s) && ids.images.children.length > 0 &&
	    ids.log.textContent !== "") ||
	    /^(Error|no such build)/.test(s) || Date.now() > deadline)
		return report();
	setTimeout(wait, 50);
})();
eval(script);
