// The Signature section's analysis: which fields are signed, what each secret makes of them,
// and how old the timestamp is. Pure apart from the `api` it is handed; no DOM.

import { memberText } from "./raw.mjs";

/**
 * An envelope field's member (or row: anything with a `name`): by its name, else by its
 * PascalCase twin, as the core looks it up (`envelopeNames`, the module's table of them),
 * and by no other spelling.
 */
export function findMember(members, name, envelopeNames) {
  const names = envelopeNames.find(([snake]) => snake === name) ?? [name];
  for (const n of names) {
    const m = members.find((member) => member.name === n);
    if (m) return m;
  }
  return undefined;
}

/** `{ timestamp, nonce, signature }`, each `{ name, text }` or undefined when absent. */
export function signedFields(members, envelopeNames) {
  const out = {};
  for (const name of ["timestamp", "nonce", "signature"]) {
    const m = findMember(members, name, envelopeNames);
    const text = memberText(m);
    out[name] = m && text !== undefined ? { name: m.name, text } : undefined;
  }
  return out;
}

/** Secrets typed in one field: comma-separated while rotating, each trimmed. */
export function secretList(text) {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * The signing string cut into its three sorted parts, `{ text, what }` with `what` one of
 * `secret`, `timestamp`, `nonce`, so the secret alone can be masked.
 */
export function signingParts(signing, secret, timestamp, nonce) {
  const named = [
    { text: secret, what: "secret" },
    { text: timestamp, what: "timestamp" },
    { text: nonce, what: "nonce" },
  ];
  const orders = [
    [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0],
  ];
  for (const order of orders) {
    const parts = order.map((k) => named[k]);
    if (parts.map((p) => p.text).join("") === signing) return parts;
  }
  return [{ text: signing, what: "secret" }];
}

/** A duration in words: `12 s`, `5 min`, `3 h`, `4 days`, `3 years`. */
export function humanDuration(seconds) {
  const s = Math.abs(seconds);
  if (s < 600) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  if (s < 730 * 86400) return `${Math.round(s / 86400)} days`;
  return `${Math.round(s / (365.25 * 86400))} years`;
}

/**
 * The timestamp's age against the window: `{ age, inside, text }`, or `{ text }` alone when
 * the timestamp is not a whole number of seconds.
 */
export function timestampAge(timestampText, now, tolerance) {
  if (!/^\d{1,15}$/.test(timestampText)) {
    return { text: `The timestamp ${JSON.stringify(timestampText)} is not a whole number of Unix seconds.` };
  }
  const age = now - Number(timestampText);
  const inside = Math.abs(age) <= tolerance;
  const when = age >= 0 ? `received ${humanDuration(age)} ago` : `dated ${humanDuration(age)} in the future`;
  const verdict = inside ? `inside the ${tolerance} s window` : `outside the ${tolerance} s window`;
  return { age, inside, text: `${when} — ${verdict}` };
}

/**
 * Everything the Signature section shows for a body's members.
 * @returns {{ fields, missing: string[], secrets: string[], results: Array, valid: boolean|undefined, age }}
 */
export function analyzeSignature(api, { members, secretText, now, tolerance }) {
  const fields = signedFields(members, api.envelopeNames);
  const missing = ["timestamp", "nonce", "signature"].filter((n) => !fields[n]);
  const secrets = secretList(secretText);
  const out = { fields, missing, secrets, results: [], valid: undefined, age: undefined };
  if (fields.timestamp) out.age = timestampAge(fields.timestamp.text, now, tolerance);
  if (missing.length || !secrets.length) return out;
  const { timestamp, nonce, signature } = fields;
  for (const secret of secrets) {
    const computed = api.sign(secret, timestamp.text, nonce.text);
    const signing = api.signingString(secret, timestamp.text, nonce.text);
    out.results.push({
      secret,
      computed,
      match: api.verifySignature(secret, timestamp.text, nonce.text, signature.text),
      signing,
      parts: signingParts(signing, secret, timestamp.text, nonce.text),
    });
  }
  out.valid = api.verifySignature(secrets, timestamp.text, nonce.text, signature.text);
  return out;
}
