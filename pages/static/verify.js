// Checks a receipt's inclusion proof in the browser (RFC 6962 hashing, RFC 9162's
// verification walk), with the proof document the page was rendered from. No library:
// SubtleCrypto's SHA-256 only (available on https and on localhost).
"use strict";

(function () {
  const main = document.getElementById("verify");
  const result = document.getElementById("result");
  if (!main || !result || result.dataset.state !== "checking") return;

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => {
    if (!/^[0-9a-f]{64}$/i.test(s)) throw new Error("not a SHA-256 hex digest: " + s);
    return Uint8Array.from(s.match(/../g), (b) => parseInt(b, 16));
  };
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const byte = (b) => Uint8Array.of(b);

  async function rootFromPath(entryHash, index, size, path) {
    if (index < 0 || index >= size) throw new Error("leaf outside the tree");
    let fn = index, sn = size - 1;
    let r = await sha256(concat(byte(0), unhex(entryHash)));
    for (const sibling of path) {
      const p = unhex(sibling);
      if (sn === 0) throw new Error("audit path too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(byte(1), p, r));
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(concat(byte(1), r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("audit path too short");
    return hex(r);
  }

  async function chainRoot(previous, day, size, merkle) {
    const sizeBytes = new Uint8Array(8);
    new DataView(sizeBytes.buffer).setBigUint64(0, BigInt(size));
    const before = previous ? unhex(previous) : new Uint8Array(32);
    return hex(await sha256(concat(byte(2), before, new TextEncoder().encode(day), sizeBytes, unhex(merkle))));
  }

  function show(state, text) {
    result.dataset.state = state;
    result.textContent = text;
  }

  async function check() {
    if (!window.crypto || !crypto.subtle) {
      show("unsupported", "此浏览器无法在本页校验（需要 HTTPS）。可用 jinlin verify-receipt 离线校验。");
      return;
    }
    const response = await fetch(main.dataset.proofUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("proof document: HTTP " + response.status);
    const doc = await response.json();
    const p = doc.proof;
    const merkle = await rootFromPath(doc.entry.hash, p.leafIndex, p.treeSize, p.auditPath);
    const chained = await chainRoot(p.previousRoot, p.day, p.treeSize, p.merkleRoot);
    if (merkle === p.merkleRoot && chained === p.root) {
      show("ok", "✓ 校验通过：这笔捐赠包含在 " + p.day + " 公布的账本根中。");
    } else {
      show("failed", "✗ 校验失败：由账目哈希和路径算出的根与公布的根不一致。");
    }
  }

  check().catch((err) => show("failed", "✗ 无法校验：" + err.message));
})();
