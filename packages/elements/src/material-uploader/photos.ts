/**
 * Photos to one PDF (拍照材料转 PDF): each photo becomes a page, upright as the camera meant it
 * (EXIF orientation applied by createImageBitmap's `imageOrientation: 'from-image'`), re-encoded as
 * JPEG and fitted into an A4 page of the photo's orientation.
 */
const A4 = { short: 595.28, long: 841.89 };
/** Longest side in pixels kept (enough for a legible scan at A4, ~300 dpi). */
const MAX_PIXELS_SIDE = 3508;

interface PageImage {
  jpeg: Uint8Array;
  width: number;
  height: number;
}

async function uprightJpeg(photo: Blob): Promise<PageImage> {
  const bitmap = await createImageBitmap(photo, { imageOrientation: 'from-image' });
  const scale = Math.min(1, MAX_PIXELS_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff'; // transparent PNG areas become white, as on paper
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.88 });
  return { jpeg: new Uint8Array(await blob.arrayBuffer()), width, height };
}

/** A PDF with one page per photo, in order. */
export async function photosToPdf(photos: Blob[], name = 'photos.pdf'): Promise<File> {
  const images: PageImage[] = [];
  for (const p of photos) images.push(await uprightJpeg(p));
  return new File([buildImagePdf(images) as Uint8Array<ArrayBuffer>], name.replace(/\.(jpe?g|png)$/i, '') + (/\.pdf$/i.test(name) ? '' : '.pdf'), {
    type: 'application/pdf',
  });
}

/** A minimal PDF 1.4: catalog, pages, and per page the page, its content and a DCTDecode image. */
export function buildImagePdf(images: PageImage[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (p: string | Uint8Array) => {
    const b = typeof p === 'string' ? enc.encode(p) : p;
    parts.push(b);
    length += b.length;
  };
  const object = (n: number, body: () => void) => {
    offsets[n] = length;
    push(`${n} 0 obj\n`);
    body();
    push('\nendobj\n');
  };
  push('%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n'); // the binary comment line (UTF-8 here: still bytes >127)
  const kids = images.map((_, i) => `${3 + i * 3} 0 R`).join(' ');
  object(1, () => push('<< /Type /Catalog /Pages 2 0 R >>'));
  object(2, () => push(`<< /Type /Pages /Kids [${kids}] /Count ${images.length} >>`));
  images.forEach((img, i) => {
    const [page, content, xobj] = [3 + i * 3, 4 + i * 3, 5 + i * 3];
    const landscape = img.width > img.height;
    const pw = landscape ? A4.long : A4.short;
    const ph = landscape ? A4.short : A4.long;
    const s = Math.min(pw / img.width, ph / img.height);
    const w = img.width * s;
    const h = img.height * s;
    const ops = `q ${w.toFixed(2)} 0 0 ${h.toFixed(2)} ${((pw - w) / 2).toFixed(2)} ${((ph - h) / 2).toFixed(2)} cm /Im0 Do Q`;
    object(page, () =>
      push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pw} ${ph}] /Resources << /XObject << /Im0 ${xobj} 0 R >> >> /Contents ${content} 0 R >>`),
    );
    object(content, () => push(`<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`));
    object(xobj, () => {
      push(
        `<< /Type /XObject /Subtype /Image /Width ${img.width} /Height ${img.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${img.jpeg.length} >>\nstream\n`,
      );
      push(img.jpeg);
      push('\nendstream');
    });
  });
  const size = 3 + images.length * 3;
  const xref = length;
  let table = `xref\n0 ${size}\n0000000000 65535 f \n`;
  for (let n = 1; n < size; n++) table += `${String(offsets[n]).padStart(10, '0')} 00000 n \n`;
  push(`${table}trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
