/**
 * A mail as the MIME message a mail program reads (RFC 5322, 2045-2049): headers, the text and HTML
 * bodies as alternatives, inline images beside them, other files attached. Written here rather than
 * by nodemailer's composer: the mails this service sends have one shape, and nodemailer builds each
 * message through a pipeline of streams per part (abort signals, random boundaries, header
 * normalisation), ~0.8 ms of CPU for a confirmation against ~0.05 ms here
 * (`npx tsx scripts/bench/email-cost.ts`). nodemailer still sends it over SMTP (pooled connections,
 * TLS, dot-stuffing) as a `raw` message.
 *
 * Self-contained (it uses no other binding of this module), so that the mail thread runs this very
 * function from its source text (Mailer.ts).
 */

/** What a message is made of: a mail, its sender and Message-ID, its attachments' bytes drawn. */
export interface MessageParts {
  readonly from: string
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly messageId: string
  readonly attachments?:
    | ReadonlyArray<{
      readonly filename: string
      readonly contentType: string
      readonly content: Uint8Array | string
      readonly cid?: string
    }>
    | undefined
}

/** The message, CRLF line ends; the same parts and date make the same message. */
export const composeMessage = (mail: MessageParts, date: Date): string => {
  const CRLF = "\r\n"
  // A value kept on one line: line breaks in organizers' text must not start a header of their own.
  const oneLine = (value: string) => value.replace(/[\r\n]+/g, " ")
  /**
   * A header's words as RFC 2047 encoded words when they are not plain printable ASCII or too long
   * for a line: base64 of at most 39 bytes of UTF-8 each (whole characters), one per folded line of at most 78
   * characters, "Subject: " included.
   */
  const words = (value: string) => {
    if (/^[\x20-\x7e]{0,70}$/.test(value)) return value
    const encoded: Array<string> = []
    let chunk = ""
    for (const character of value) {
      if (Buffer.byteLength(chunk + character) > 39) {
        encoded.push(chunk)
        chunk = ""
      }
      chunk += character
    }
    encoded.push(chunk)
    return encoded.map((part) => `=?UTF-8?B?${Buffer.from(part).toString("base64")}?=`).join(`${CRLF} `)
  }
  /** `Name <user@domain>` with the name encoded when it must be; a bare address as it is. */
  const address = (value: string) => {
    const named = /^\s*"?([^"<]*?)"?\s*<([^<>]+)>\s*$/.exec(oneLine(value))
    return named === null ? oneLine(value).trim() : `${words(named[1]!)} <${named[2]}>`
  }
  /**
   * Quoted-printable (RFC 2045 6.7), as text parts are sent: readable as it is where it is ASCII,
   * lines of at most 76 characters, every other byte as =XX.
   */
  const quotedPrintable = (body: string) =>
    body.split(/\r?\n/).map((line) => {
      const escaped = Buffer.from(line, "utf8").toString("latin1")
        .replace(/[^\x20-\x3c\x3e-\x7e]|[ ]$/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)
      if (escaped.length <= 76) return escaped
      const pieces: Array<string> = []
      let rest = escaped
      while (rest.length > 76) {
        let cut = 75
        const escape = rest.lastIndexOf("=", cut - 1)
        if (escape > cut - 3) cut = escape // never split an =XX
        pieces.push(`${rest.slice(0, cut)}=`)
        rest = rest.slice(cut)
      }
      pieces.push(rest)
      return pieces.join(CRLF)
    }).join(CRLF)
  const base64 = (content: Uint8Array | string) => {
    const encoded = (typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content)).toString("base64")
    const lines: Array<string> = []
    for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76))
    return lines.join(CRLF)
  }
  /** A file name as a quoted parameter: what a name may hold that a header may not is replaced. */
  const fileName = (name: string) => `"${name.replace(/[^\w.@+-]/g, "_")}"`

  type Part = { readonly headers: ReadonlyArray<string>; readonly body: string }
  // Boundaries cannot occur in the bodies: every body is base64 or quoted-printable, in which "=_" never appears.
  const multipart = (kind: string, parts: ReadonlyArray<Part>): Part =>
    parts.length === 1 ? parts[0]! : {
      headers: [`Content-Type: multipart/${kind}; boundary="=_${kind}"`],
      body: [...parts.map((part) => `--=_${kind}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}${part.body}`), `--=_${kind}--`]
        .join(CRLF)
    }
  const textPart = (type: string, body: string): Part => ({
    headers: [`Content-Type: text/${type}; charset=utf-8`, "Content-Transfer-Encoding: quoted-printable"],
    body: quotedPrintable(body)
  })
  const files = mail.attachments ?? []
  const filePart = (file: (typeof files)[number]): Part => ({
    headers: [
      `Content-Type: ${oneLine(file.contentType)}; name=${fileName(file.filename)}`,
      "Content-Transfer-Encoding: base64",
      ...(file.cid === undefined ? [] : [`Content-ID: <${oneLine(file.cid)}>`]),
      `Content-Disposition: ${file.cid === undefined ? "attachment" : "inline"}; filename=${fileName(file.filename)}`
    ],
    body: base64(file.content)
  })
  const message = multipart("mixed", [
    multipart("related", [
      multipart("alternative", [textPart("plain", mail.text), textPart("html", mail.html)]),
      ...files.filter((file) => file.cid !== undefined).map(filePart)
    ]),
    ...files.filter((file) => file.cid === undefined).map(filePart)
  ])
  return [
    `From: ${address(mail.from)}`,
    `To: ${address(mail.to)}`,
    `Subject: ${words(oneLine(mail.subject))}`,
    `Message-ID: ${oneLine(mail.messageId)}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    "MIME-Version: 1.0",
    ...message.headers,
    "",
    message.body,
    ""
  ].join(CRLF)
}

/** The bare address of `Name <user@domain>` (what SMTP's envelope names). */
export const bareAddress = (value: string) => /<([^<>]+)>\s*$/.exec(value)?.[1] ?? value.trim()
