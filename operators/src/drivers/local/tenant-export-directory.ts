import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { TenantRef } from '../../core/tenant-drivers.ts';

/**
 * The on-disk life of a tenant export: written into a private partial directory, made
 * durable file by file, sealed by a manifest of SHA-256 digests, then renamed into place
 * in one atomic step. A directory under its final name is therefore always complete;
 * a partial one is only ever thrown away.
 */

/** The manifest's file name; it lists every other file with its digest. */
export const EXPORT_MANIFEST = 'manifest.json';
const PARTIAL_PREFIX = '.partial-';
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;

/** One file of an export, as the manifest lists it. */
export interface ExportedFile {
  /** Relative to the export directory, `/`-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

/** `<dataDir>/exports`: where finished exports stay after their tenant is gone. */
export function exportsDirectory(dataDir: string): string {
  return join(dataDir, 'exports');
}

/** Every export of one tenant starts with this: the slug alone could be reused by a new tenant. */
function exportNamePrefix(tenant: TenantRef): string {
  return `${tenant.slug}-${tenant.uid}-`;
}

/**
 * Whether `name` is `<prefix><suffix>` for exactly this tenant. A prefix test alone is not
 * enough: another tenant's slug may itself be `<this slug>-<this uid>`.
 */
function isNamed(name: string, prefix: string, suffix: RegExp): boolean {
  return name.startsWith(prefix) && suffix.test(name.slice(prefix.length));
}

const FINAL_SUFFIX = /^\d{8}T\d{6}Z$/;
const PARTIAL_SUFFIX = /^\d+-\d+$/;

/** `20261124T211802Z`: sortable, and free of characters that file systems dislike. */
function compactTimestamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** `<slug>-<uid>-<timestamp>`, the final name of an export taken at `at`. */
export function exportDirectoryName(tenant: TenantRef, at: Date): string {
  return `${exportNamePrefix(tenant)}${compactTimestamp(at)}`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function listExports(dataDir: string): Promise<string[]> {
  try {
    return await readdir(exportsDirectory(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The newest finished export of `tenant`, or undefined. */
export async function findCompletedExport(
  dataDir: string,
  tenant: TenantRef,
): Promise<string | undefined> {
  const names = (await listExports(dataDir))
    .filter((name) => isNamed(name, exportNamePrefix(tenant), FINAL_SUFFIX))
    .sort()
    .reverse();
  for (const name of names) {
    const directory = join(exportsDirectory(dataDir), name);
    if (await isFile(join(directory, EXPORT_MANIFEST))) return directory;
  }
  return undefined;
}

/**
 * Starts a fresh partial export of `tenant`: removes what an interrupted attempt left, then
 * creates a new private directory beside where the export will end up (same file system,
 * so the final rename is atomic).
 */
export async function startPartialExport(dataDir: string, tenant: TenantRef): Promise<string> {
  const root = exportsDirectory(dataDir);
  await mkdir(root, { recursive: true, mode: DIRECTORY_MODE });
  await chmod(root, DIRECTORY_MODE);
  const stale = `${PARTIAL_PREFIX}${exportNamePrefix(tenant)}`;
  for (const name of await listExports(dataDir)) {
    if (isNamed(name, stale, PARTIAL_SUFFIX)) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
  const partial = join(root, `${stale}${process.pid}-${Date.now()}`);
  await mkdir(partial, { mode: DIRECTORY_MODE });
  return partial;
}

/** Flushes a file or directory to stable storage. */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes one file private and durable, and digests it. */
async function sealFile(directory: string, path: string): Promise<ExportedFile> {
  await chmod(path, FILE_MODE);
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of handle.createReadStream({
      autoClose: false,
    }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    await handle.sync();
    return {
      path: relative(directory, path).split(sep).join('/'),
      bytes,
      sha256: hash.digest('hex'),
    };
  } finally {
    await handle.close();
  }
}

/** Every file under `directory`, sealed; subdirectories made private and durable too. */
async function sealTree(root: string, directory: string): Promise<ExportedFile[]> {
  const files: ExportedFile[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      await chmod(path, DIRECTORY_MODE);
      files.push(...(await sealTree(root, path)));
      await fsyncPath(path);
    } else if (entry.isFile()) {
      files.push(await sealFile(root, path));
    } else {
      throw new Error(`unexpected ${entry.name} in an export: only files and directories belong`);
    }
  }
  return files;
}

/**
 * Seals a partial export and moves it into place: digests and fsyncs every file, writes
 * `manifest.json` (`manifest` plus the file list) last, then renames the directory to its
 * final name and fsyncs the parent. Returns the final directory.
 */
export async function completeExport(
  partial: string,
  finalName: string,
  manifest: Record<string, unknown>,
): Promise<string> {
  const files = await sealTree(partial, partial);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifestPath = join(partial, EXPORT_MANIFEST);
  await writeFile(manifestPath, `${JSON.stringify({ ...manifest, files }, undefined, 2)}\n`, {
    mode: FILE_MODE,
    flag: 'wx',
  });
  await fsyncPath(manifestPath);
  await fsyncPath(partial);
  const root = join(partial, '..');
  const target = join(root, finalName);
  await rename(partial, target);
  await fsyncPath(root);
  return target;
}
