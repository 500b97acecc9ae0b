import { extractText, getDocumentProxy } from 'unpdf';
import { collapseWhitespace, type DocumentBuilder } from './document-builder.ts';
import { DocumentParseError } from './document-parse-error.ts';

interface PdfParseResult {
  pageCount: number;
  title?: string;
  language?: string;
}

/**
 * Reads a PDF's text layer with PDF.js (through unpdf's serverless build: pure JavaScript,
 * no native code, no worker). Each page's paragraphs (separated by blank lines in the text
 * layer) become paragraph blocks carrying their page number; line breaks inside a
 * paragraph become spaces. Scanned pages without a text layer yield nothing: OCR is not
 * done here.
 */
export async function parsePdfInto(
  builder: DocumentBuilder,
  bytes: Uint8Array,
): Promise<PdfParseResult> {
  const pdf = await openPdf(bytes);
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    text.forEach((pageText, pageIndex) => {
      for (const paragraph of pageText.split(/\n[ \t]*\n/)) {
        builder.add({ kind: 'paragraph', page: pageIndex + 1 }, collapseWhitespace(paragraph));
      }
    });
    const info = await readInfo(pdf);
    return { pageCount: totalPages, ...info };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

async function openPdf(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    // PDF.js takes ownership of (and detaches) the buffer it is given: pass a copy.
    return await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    const reason =
      error instanceof Error && error.name === 'PasswordException'
        ? 'is encrypted'
        : 'is not a readable PDF';
    throw new DocumentParseError('unreadable_document', `The document ${reason}.`, {
      cause: error,
    });
  }
}

async function readInfo(pdf: PdfDocument): Promise<{ title?: string; language?: string }> {
  const { info } = await pdf.getMetadata().catch(() => ({ info: undefined }));
  const fields = (info ?? {}) as { Title?: unknown; Language?: unknown };
  const result: { title?: string; language?: string } = {};
  if (typeof fields.Title === 'string' && fields.Title.trim()) result.title = fields.Title.trim();
  if (typeof fields.Language === 'string' && fields.Language.trim())
    result.language = fields.Language.trim();
  return result;
}
