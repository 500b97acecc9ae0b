/** An output stream for in-process CLI runs that keeps what was written in `text`. */
export interface CapturedStream {
  write(chunk: string): boolean;
  isTTY: boolean;
  columns: number;
  text: string;
}

/** Creates a stream that records writes; `isTTY` makes the CLI behave as on a terminal. */
export function captureStream(isTTY = false): CapturedStream {
  return {
    isTTY,
    columns: 120,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}
