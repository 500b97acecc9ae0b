import { request as httpRequest, createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  readDocumentUpload,
  uploadToIngestBody,
  type DocumentUpload,
  type DocumentUploadLimits,
} from '../src/http/document-upload.ts';
import { LibraryRequestError } from '../src/http/library-requests.ts';
import { readIngestRequest } from '../src/ingestion/ingest-request.ts';
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  DocumentParseError,
  parseDocument,
} from '../src/parsing/index.ts';

/** What the server made of one request: the upload, or the error it was refused with. */
type Outcome = { upload: DocumentUpload } | { error: unknown };

interface Problem {
  type: string;
  status: number;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

let server: Server;
let base: string;
let limits: DocumentUploadLimits = {};
let outcomes: Outcome[] = [];
let nextOutcome: Promise<Outcome>;
let recordOutcome: (outcome: Outcome) => void;

function expectOutcome(): void {
  nextOutcome = new Promise((resolve) => {
    recordOutcome = resolve;
  });
}

/** Answers as the library's route does: the upload read, or the problem with `Connection: close`. */
beforeAll(async () => {
  server = createServer((request, response) => {
    readDocumentUpload(request, limits).then(
      (upload) => {
        outcomes.push({ upload });
        recordOutcome({ upload });
        const { file, fields } = upload;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            fields,
            file: { ...file, content: undefined, size: file.content.length },
          }),
        );
      },
      (error: unknown) => {
        outcomes.push({ error });
        recordOutcome({ error });
        const problem =
          error instanceof LibraryRequestError
            ? error.problem
            : { type: 'internal', title: 'Internal Server Error', status: 500 };
        response.writeHead(problem.status, {
          'content-type': 'application/problem+json',
          connection: 'close',
        });
        response.end(JSON.stringify(problem));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  base = `http://127.0.0.1:${address.port}/documents`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  limits = {};
  outcomes = [];
  expectOutcome();
});

async function post(form: FormData): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(base, { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function postProblem(form: FormData): Promise<Problem> {
  const { status, body } = await post(form);
  const problem = body as unknown as Problem;
  expect(problem.status).toBe(status);
  return problem;
}

function lastUpload(): DocumentUpload {
  const outcome = outcomes.at(-1);
  if (!outcome || !('upload' in outcome)) throw new Error('the last request was refused');
  return outcome.upload;
}

function documentForm(fields: Record<string, string | string[]> = {}): FormData {
  const form = new FormData();
  form.append(
    'file',
    new Blob(['# Handbook\n\nHow the library ingests documents.\n'], { type: 'text/markdown' }),
    'handbook.md',
  );
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
  }
  return form;
}

/** Sends raw bytes as one HTTP request and returns the status the server answered with. */
function rawRequest(head: string, body: Buffer | string, endSocket = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      socket.write(body);
      if (endSocket) socket.end();
    });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(received).toString('latin1')));
    socket.on('error', reject);
  });
}

async function handbookPdf(): Promise<Uint8Array<ArrayBuffer>> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  pdf.addPage([400, 400]).drawText('The library parses PDF uploads.', { x: 40, y: 340, font });
  return new Uint8Array(await pdf.save());
}

describe('readDocumentUpload: a well-formed upload', () => {
  it('reads the file, its name and type, and every text field (tags repeated)', async () => {
    const { status, body } = await post(
      documentForm({
        title: 'Handbook',
        license: 'CC-BY-4.0',
        source: 'https://example.com/handbook',
        author: 'Ada',
        classification: 'confidential',
        tags: ['guide', 'library'],
      }),
    );
    expect(status).toBe(200);
    expect(body.fields).toEqual({
      title: 'Handbook',
      license: 'CC-BY-4.0',
      source: 'https://example.com/handbook',
      author: 'Ada',
      classification: 'confidential',
      tags: ['guide', 'library'],
    });
    expect(body.file).toMatchObject({
      filename: 'handbook.md',
      mediaType: 'text/markdown',
      declaredMediaType: 'text/markdown',
    });
    expect(uploadToIngestBody(lastUpload())).toEqual({
      title: 'Handbook',
      content: '# Handbook\n\nHow the library ingests documents.\n',
      mediaType: 'text/markdown',
      license: 'CC-BY-4.0',
      source: 'https://example.com/handbook',
      author: 'Ada',
      classification: 'confidential',
      tags: ['guide', 'library'],
    });
    // The body is what the JSON route reads: the same ingest request, field for field.
    expect(readIngestRequest(uploadToIngestBody(lastUpload()))).toEqual({
      title: 'Handbook',
      content: { text: '# Handbook\n\nHow the library ingests documents.\n' },
      mediaType: 'text/markdown',
      license: 'CC-BY-4.0',
      source: 'https://example.com/handbook',
      author: 'Ada',
      tags: ['guide', 'library'],
      classification: 'confidential',
      documentId: undefined,
    });
  });

  it('reads the fields from a metadata JSON part, sent as a field or as a file', async () => {
    const metadata = {
      title: 'Handbook',
      license: 'MIT',
      source: 'upload',
      tags: ['a', 'b'],
      documentId: '0b7c8f1e-9d1a-4c5e-8f00-1a2b3c4d5e6f',
    };
    const asField = documentForm({ metadata: JSON.stringify(metadata) });
    expect((await post(asField)).body.fields).toEqual(metadata);

    const asFile = documentForm();
    asFile.append(
      'metadata',
      new Blob([JSON.stringify(metadata)], { type: 'application/json' }),
      'metadata.json',
    );
    expect((await post(asFile)).body.fields).toEqual(metadata);
  });

  it('takes the media type from the extension when the part type is generic, and honours an override', async () => {
    const generic = new FormData();
    generic.append('file', new Blob(['<p>Hello</p>']), 'page.HTML');
    expect((await post(generic)).body.file).toMatchObject({
      mediaType: 'text/html',
      declaredMediaType: 'application/octet-stream',
    });

    const overridden = documentForm({ mediaType: 'text/plain' });
    expect((await post(overridden)).body.file).toMatchObject({ mediaType: 'text/plain' });

    const untyped = new FormData();
    untyped.append('file', new Blob(['plain words'], { type: 'text/plain' }), 'README');
    expect((await post(untyped)).body.file).toMatchObject({ mediaType: 'text/plain' });
  });

  it('keeps a UTF-8 filename, and titles a document after it when no title is given', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob(['Notes about résumés.'], { type: 'text/plain' }),
      'résumé notes.txt',
    );
    expect((await post(form)).body.file).toMatchObject({ filename: 'résumé notes.txt' });
    expect(uploadToIngestBody(lastUpload())).toMatchObject({
      title: 'résumé notes',
      content: 'Notes about résumés.',
      mediaType: 'text/plain',
    });
  });

  it('turns a PDF into base64 content that decodes to the bytes the parser reads', async () => {
    const pdf = await handbookPdf();
    const form = new FormData();
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'handbook.pdf');
    form.append('license', 'MIT');
    expect((await post(form)).status).toBe(200);
    const body = uploadToIngestBody(lastUpload());
    expect(body).toMatchObject({
      title: 'handbook',
      mediaType: 'application/pdf',
      contentEncoding: 'base64',
    });
    const bytes = Buffer.from(body.content, 'base64');
    expect(bytes.equals(Buffer.from(pdf))).toBe(true);
    const parsed = await parseDocument({ bytes, mediaType: body.mediaType });
    expect(readIngestRequest({ ...body, source: 'upload' }).content).toEqual({
      base64: body.content,
    });
    expect(parsed.text).toContain('The library parses PDF uploads.');
  });

  it('refuses a text document that is not UTF-8 as unreadable (422), as the parser does', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array([0x63, 0x61, 0x66, 0xe9])], { type: 'text/plain' }),
      'cafe.txt',
    );
    expect((await post(form)).status).toBe(200);
    const refusal = (() => {
      try {
        uploadToIngestBody(lastUpload());
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(DocumentParseError);
    expect(refusal).toMatchObject({ code: 'unreadable_document', status: 422 });
  });
});

describe('readDocumentUpload: refusals', () => {
  it('refuses a body that is not multipart/form-data with 415', async () => {
    const response = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as Problem).type).toBe('unsupported-media-type');
  });

  it('refuses multipart/form-data without a boundary with 400', async () => {
    const response = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'hello',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Problem).detail).toMatch(/boundary/i);
  });

  it('refuses an upload without a file, with the field at fault', async () => {
    const form = new FormData();
    form.append('title', 'Nothing attached');
    const problem = await postProblem(form);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { path: 'file', message: expect.stringContaining('required') as unknown },
    ]);
  });

  it('refuses a file sent as a text field, and an empty file', async () => {
    const asText = new FormData();
    asText.append('file', 'not a file part');
    expect((await postProblem(asText)).errors?.[0]).toMatchObject({ path: 'file' });

    const empty = new FormData();
    empty.append('file', new Blob([], { type: 'text/plain' }), 'empty.txt');
    expect((await postProblem(empty)).errors).toEqual([{ path: 'file', message: 'is empty' }]);
  });

  it('refuses two files', async () => {
    const form = documentForm();
    form.append('file', new Blob(['second'], { type: 'text/plain' }), 'second.txt');
    const problem = await postProblem(form);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { path: 'file', message: expect.stringContaining('once') as unknown },
    ]);
  });

  it('refuses unknown fields and unknown file parts, listing every one', async () => {
    const form = documentForm({ colour: 'blue' });
    form.append('attachment', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    const problem = await postProblem(form);
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((error) => error.path).sort()).toEqual(['attachment', 'colour']);
  });

  it('refuses a field given twice, metadata that is not an object of strings, and unknown metadata keys', async () => {
    const twice = documentForm({ title: ['One', 'Two'] });
    expect((await postProblem(twice)).errors).toEqual([
      { path: 'title', message: 'must be given once' },
    ]);

    const notJson = documentForm({ metadata: '{title:' });
    expect((await postProblem(notJson)).errors).toEqual([
      { path: 'metadata', message: 'must be a JSON object' },
    ]);

    const badTypes = documentForm({
      metadata: JSON.stringify({ title: 7, tags: [1], colour: 'blue' }),
    });
    expect((await postProblem(badTypes)).errors).toEqual([
      { path: 'metadata.title', message: 'must be a string' },
      { path: 'metadata.tags', message: 'must be an array of strings' },
      { path: 'metadata.colour', message: 'is not a known field' },
    ]);

    const both = documentForm({ title: 'Form', metadata: JSON.stringify({ title: 'Metadata' }) });
    expect((await postProblem(both)).errors).toEqual([
      { path: 'title', message: 'must be given once' },
    ]);
  });

  it('refuses a field longer than the limit with 400', async () => {
    limits = { maxFieldBytes: 1024 };
    const problem = await postProblem(documentForm({ title: 'x'.repeat(1025) }));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: 'title', message: 'must have at most 1024 bytes' }]);

    const metadata = documentForm({ metadata: JSON.stringify({ title: 'y'.repeat(2000) }) });
    expect((await postProblem(metadata)).errors).toEqual([
      { path: 'metadata', message: 'must have at most 1024 bytes' },
    ]);
  });

  it('refuses too many parts with 400', async () => {
    limits = { maxParts: 5 };
    const problem = await postProblem(documentForm({ tags: ['1', '2', '3', '4', '5', '6'] }));
    expect(problem.status).toBe(400);
    expect(problem.detail).toMatch(/at most 5 parts/);
  });

  it('refuses a document type the library does not read with 415', async () => {
    const png = new FormData();
    png.append(
      'file',
      new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }),
      'logo.png',
    );
    expect(await postProblem(png)).toMatchObject({ status: 415, type: 'unsupported-media-type' });

    const docx = new FormData();
    docx.append('file', new Blob(['PK']), 'report.docx');
    expect(await postProblem(docx)).toMatchObject({ status: 415 });

    const override = documentForm({ mediaType: 'application/msword' });
    expect(await postProblem(override)).toMatchObject({ status: 415 });
  });

  it('refuses a file over the limit with 413', async () => {
    limits = { maxFileBytes: 1024 };
    const form = new FormData();
    form.append('file', new Blob(['z'.repeat(1025)], { type: 'text/plain' }), 'big.txt');
    const problem = await postProblem(form);
    expect(problem).toMatchObject({ status: 413, type: 'payload-too-large' });

    const exact = new FormData();
    exact.append('file', new Blob(['z'.repeat(1024)], { type: 'text/plain' }), 'exact.txt');
    expect((await post(exact)).status).toBe(200);
  });

  it("defaults the file limit to the parser's own, and stops reading an oversized stream early", async () => {
    const boundary = 'citadel-upload-boundary';
    const total = DEFAULT_MAX_DOCUMENT_BYTES * 10;
    let sent = 0;
    // The server answers 413 and closes the connection while the client still writes: the
    // client reads either the 413 or, when the close overtakes it, a reset connection.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const client = httpRequest(base, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      client.on('response', (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      client.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE' || error.code === 'ECONNRESET') resolve(undefined);
        else reject(error);
      });
      client.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\n` +
          'Content-Type: text/plain\r\n\r\n',
      );
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const pump = (): void => {
        while (sent < total && !client.destroyed) {
          sent += chunk.length;
          if (!client.write(chunk)) {
            client.once('drain', pump);
            return;
          }
        }
        if (sent >= total) client.end();
      };
      pump();
    });
    expect([413, undefined]).toContain(status);
    const outcome = await nextOutcome;
    expect('error' in outcome && outcome.error).toMatchObject({
      problem: {
        status: 413,
        detail: expect.stringContaining(String(DEFAULT_MAX_DOCUMENT_BYTES)) as unknown,
      },
    });
    // The answer came long before the client could send it all.
    expect(sent).toBeLessThan(total / 2);
  });

  it('refuses a declared Content-Length over the body limit before reading any of it', async () => {
    limits = { maxFileBytes: 1024 };
    const reply = await rawRequest(
      'POST /documents HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000000\r\n\r\n',
      '',
      false,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('readDocumentUpload: malformed and truncated bodies', () => {
  const boundary = 'xyz';
  const head = (length: number | 'chunked') =>
    'POST /documents HTTP/1.1\r\nHost: localhost\r\n' +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
    (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
    'Connection: close\r\n\r\n';
  const filePart =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n` +
    'Content-Type: text/plain\r\n\r\nsome text';

  it('refuses a connection that ends mid-part with 400, without hanging', async () => {
    await rawRequest(head(10_000), filePart);
    const outcome = await nextOutcome;
    expect('error' in outcome && outcome.error).toMatchObject({
      problem: { status: 400, detail: expect.stringMatching(/ended before/) as unknown },
    });
  });

  it('refuses a complete HTTP body whose multipart ends mid-part with 400', async () => {
    const body = Buffer.from(filePart);
    const chunked = `${body.length.toString(16)}\r\n${filePart}\r\n0\r\n\r\n`;
    const reply = await rawRequest(head('chunked'), chunked);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/Unexpected end of form/);
  });

  it('refuses a malformed part header with 400', async () => {
    const body = `--${boundary}\r\nthis is not a header\r\n\r\ntext\r\n--${boundary}--\r\n`;
    const reply = await rawRequest(head(Buffer.byteLength(body)), body);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });
});
