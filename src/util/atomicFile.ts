import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /**
   * Permission bits for the file. Without it an existing target keeps its
   * mode (a rewrite must not widen access), and a new one gets 0o666 & ~umask.
   */
  mode?: number;
}

/**
 * Replaces `path` with `data` so that a reader, or the next start after a
 * crash, sees either the old content or the new, never a prefix. The data is
 * fsynced before the rename and the directory after it, so an acknowledged
 * write survives power loss. Rejects with the OS error (its `code` intact:
 * EACCES, ENOSPC, EISDIR...) and leaves no temporary file behind.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });

  let mode = options.mode;
  if (mode === undefined) {
    try {
      mode = (await stat(path)).mode & 0o7777;
    } catch {
      // No target yet (or unreadable): the rename below reports real problems.
    }
  }

  // Same directory, so the rename stays on one file system and is atomic.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await open(tmp, 'wx', mode ?? 0o666);
    try {
      await handle.writeFile(data);
      // open() applied the umask; an inherited mode must be exact.
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    renamed = true;
    await fsyncDirectory(dir);
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is already durable
  // enough for our purposes.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
