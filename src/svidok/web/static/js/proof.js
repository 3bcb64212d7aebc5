// Checks the item's custody proof in this browser, trusting nothing the server sends but
// the log's verifier key, which the page shows for comparing with the published one.
// The checks are those of verifier/svidok_verify.py (see docs/verify.md): the C2SP
// signed-note and tlog-checkpoint formats, and RFC 9162 section 2.1.3.2 for inclusion.
// WebCrypto only: SHA-256 digests and Ed25519 signatures.
"use strict";

(function () {
  const section = document.getElementById("proof");
  if (!section) return;
  const status = document.getElementById("proof-status");
  const list = document.getElementById("proof-steps");
  const t = (name) => section.dataset["t" + name] || name; // translated by the template
  const encoder = new TextEncoder();
  const STEPS = ["key", "signature", "checkpoint", "entry", "inclusion", "original"];
  const MAX_SIGNATURES = 100; // as golang.org/x/mod/sumdb/note and the Python verifier

  class Failure extends Error {}

  // --- bytes --------------------------------------------------------------------------

  function fromBase64(text, what) {
    let raw;
    try {
      raw = atob(text);
    } catch (e) {
      throw new Failure(what + " is not valid base64");
    }
    // One text form per byte string, as the Python verifier insists.
    if (btoa(raw) !== text) throw new Failure(what + " is not canonical base64");
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  async function sha256(...parts) {
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
  }

  // --- C2SP signed note, verifier key and checkpoint -----------------------------------

  async function parseKey(vkey) {
    const parts = String(vkey).trim().split("+"); // the base64 part may hold '+' too
    const [name, id] = parts;
    const blob = parts.slice(2).join("+");
    if (parts.length < 3 || !name || /\s/.test(name)) {
      throw new Failure("the verifier key does not read name+keyid+key");
    }
    if (!/^[0-9a-fA-F]{8}$/.test(id)) throw new Failure("the key ID is not 8 hex digits");
    const raw = fromBase64(blob, "the verifier key");
    if (raw.length !== 33 || raw[0] !== 0x01) {
      throw new Failure("the verifier key is not an Ed25519 note key");
    }
    // Key ID: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
    const keyId = (await sha256(encoder.encode(name), [0x0a], raw)).slice(0, 4);
    if (hex(keyId) !== id.toLowerCase()) throw new Failure("the key ID does not match the key");
    const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false,
      ["verify"]);
    return { name, keyId, key };
  }

  async function openNote(note, key) {
    if (/[\x00-\x09\x0b-\x1f\x7f]/.test(note)) throw new Failure("the note holds control characters");
    if (!note.endsWith("\n")) throw new Failure("the note does not end with a newline");
    // The text may hold blank lines itself: the signatures follow the last one.
    const cut = note.lastIndexOf("\n\n");
    if (cut < 0) throw new Failure("the note has no signatures");
    const text = note.slice(0, cut + 1);
    const block = note.slice(cut + 2);
    if (!block) throw new Failure("the note has no signature lines");
    const lines = block.slice(0, -1).split("\n");
    if (lines.length > MAX_SIGNATURES) throw new Failure("the note has too many signatures");
    let verified = false;
    for (const line of lines) {
      const fields = line.split(" ");
      if (fields.length !== 3 || fields[0] !== "\u2014" || !fields[1] || /[\s+]/.test(fields[1])) {
        throw new Failure("a signature line is malformed");
      }
      const signature = fromBase64(fields[2], "a signature");
      if (signature.length < 5) throw new Failure("a signature is too short");
      // Someone else's signature (a witness, say) is not ours to judge.
      if (fields[1] !== key.name || !same(signature.slice(0, 4), key.keyId)) continue;
      const good = await crypto.subtle.verify({ name: "Ed25519" }, key.key, signature.slice(4),
        encoder.encode(text));
      if (!good) throw new Failure("the log's signature does not match the checkpoint");
      verified = true;
    }
    if (!verified) throw new Failure("the checkpoint carries no signature by the log's key");
    return text;
  }

  function parseCheckpoint(text, key) {
    const lines = text.split("\n").slice(0, -1);
    if (lines.length < 3) throw new Failure("the checkpoint lacks an origin, size or root");
    if (lines[0] !== key.name) throw new Failure("the checkpoint's origin is not the key's log");
    if (!/^(0|[1-9][0-9]{0,19})$/.test(lines[1]) || BigInt(lines[1]) >= 2n ** 64n) {
      throw new Failure("the tree size is not a plain decimal number");
    }
    const root = fromBase64(lines[2], "the root hash");
    if (root.length !== 32) throw new Failure("the root hash is not 32 bytes");
    if (lines.slice(3).some((line) => !line)) throw new Failure("an extension line is empty");
    return { origin: lines[0], size: BigInt(lines[1]), root };
  }

  // --- the log entry -------------------------------------------------------------------

  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort()
        .map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
    }
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new Failure("the entry holds a number that is not a plain integer");
    }
    return JSON.stringify(value);
  }

  function checkEntry(bytes, sha) {
    let text, record;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      record = JSON.parse(text);
    } catch (e) {
      throw new Failure("the entry is not JSON text");
    }
    // Canonical form (sorted keys, no spaces) leaves no room for a second reading.
    if (record === null || typeof record !== "object" || canonical(record) !== text) {
      throw new Failure("the entry is not canonical JSON");
    }
    if (record.format !== "svidok.custody-event/1") throw new Failure("the entry's format is unknown");
    if (record.action !== "capture") throw new Failure("the entry is not a capture");
    if (record.sha256 !== sha) throw new Failure("the entry names another SHA-256");
    return record;
  }

  // --- RFC 9162 section 2.1.3.2, 0-based; BigInt since JavaScript shifts only 32 bits -----

  async function verifyInclusion(index, size, leaf, path, root) {
    if (index >= size) throw new Failure("the leaf index is not below the tree size");
    let fn = index;
    let sn = size - 1n;
    let r = leaf;
    for (const p of path) {
      if (p.length !== 32) throw new Failure("a path hash is not 32 bytes");
      if (sn === 0n) throw new Failure("the inclusion path is too long");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256([0x01], p, r);
        while (fn !== 0n && (fn & 1n) === 0n) { // levels where the node has no right sibling
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await sha256([0x01], r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new Failure("the inclusion path is too short");
    if (!same(r, root)) throw new Failure("the inclusion path does not lead to the signed root");
  }

  // --- the page ------------------------------------------------------------------------

  function mark(step, outcome, reason) {
    const item = document.createElement("li");
    const name = step.charAt(0).toUpperCase() + step.slice(1);
    item.dataset.step = step;
    item.dataset.outcome = outcome;
    item.className = "step-" + outcome;
    item.textContent = t("Step" + name) + " \u2014 " +
      t({ ok: "Ok", bad: "Bad", skipped: "Skipped" }[outcome]);
    if (reason) {
      item.dataset.reason = reason;
      item.title = reason; // technical, in English, as the offline verifier says it
    }
    list.appendChild(item);
  }

  function finish(state, text, step, reason) {
    status.dataset.state = state;
    status.textContent = text;
    if (step) status.dataset.failedStep = step;
    if (reason) status.dataset.reason = reason;
  }

  function show(field, value) {
    const place = section.querySelector('[data-field="' + field + '"]');
    if (place) place.textContent = value;
  }

  async function hashOriginal(answer) {
    let bytes;
    if (answer.record) {
      bytes = fromBase64(answer.record, "the record");
    } else if (answer.original && answer.original.hash_in_browser &&
               String(answer.original.url).startsWith("/items/")) {
      const response = await fetch(answer.original.url, { credentials: "same-origin" });
      if (!response.ok) throw new Failure("the original could not be fetched");
      bytes = new Uint8Array(await response.arrayBuffer());
    } else {
      return null;
    }
    return hex(await sha256(bytes));
  }

  async function check(answer, sha) {
    let step = STEPS[0];
    try {
      const key = await parseKey(answer.vkey);
      show("key", answer.vkey);
      mark(step, "ok");
      step = "signature";
      const text = await openNote(String(answer.checkpoint), key);
      mark(step, "ok");
      step = "checkpoint";
      const cp = parseCheckpoint(text, key);
      show("origin", cp.origin);
      show("size", cp.size.toString());
      show("time", answer.checkpoint_time ? String(answer.checkpoint_time).slice(0, 19)
        .replace("T", " ") + " UTC" : "");
      section.querySelector("#proof-checkpoint").hidden = false;
      mark(step, "ok");
      step = "entry";
      const entry = fromBase64(String(answer.entry), "the entry");
      checkEntry(entry, sha);
      if (!Number.isSafeInteger(answer.leaf_index) || answer.leaf_index < 0) {
        throw new Failure("the leaf index is not a number");
      }
      show("index", String(answer.leaf_index));
      mark(step, "ok");
      step = "inclusion";
      const path = (answer.inclusion_path || []).map((h, i) => fromBase64(h, "path hash " + i));
      await verifyInclusion(BigInt(answer.leaf_index), cp.size, await sha256([0x00], entry),
        path, cp.root);
      mark(step, "ok");
      step = "original";
      const found = await hashOriginal(answer);
      if (found === null) {
        mark(step, "skipped", t("TooLarge"));
      } else if (found !== sha) {
        throw new Failure("the original's SHA-256 is " + found);
      } else {
        mark(step, "ok");
      }
      finish("verified", t("Verified"));
    } catch (error) {
      const reason = error instanceof Failure ? error.message : String(error && error.message || error);
      mark(step, "bad", reason);
      const name = step.charAt(0).toUpperCase() + step.slice(1);
      finish("failed", t("Failed") + ": " + t("Step" + name), step, reason);
    }
  }

  async function start() {
    const sha = section.dataset.sha256;
    if (!window.crypto || !crypto.subtle) {
      finish("failed", t("NoCrypto"), "key", "no WebCrypto in this context");
      return;
    }
    let answer;
    try {
      const response = await fetch(section.dataset.proofUrl, {
        credentials: "same-origin", headers: { accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      answer = await response.json();
    } catch (error) {
      finish("failed", t("Unavailable"), "fetch", String(error && error.message || error));
      return;
    }
    if (answer.state === "unsigned" || answer.state === "unlogged") {
      finish(answer.state, t(answer.state === "unsigned" ? "Unsigned" : "Unlogged"));
      return;
    }
    await check(answer, sha);
  }

  start();
})();
