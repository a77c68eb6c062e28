package io.tidemark.shared.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Passes everything written to the original stream and hands each complete line to a consumer.
 * Lines are assembled per writing thread, so concurrent loggers never interleave into one line;
 * a line longer than the cap is handed on in pieces, so memory stays bounded.
 */
final class LineTee extends OutputStream {

    private static final int MAX_LINE = 256 * 1024;

    private final PrintStream original;
    private final Consumer<String> lines;
    private final ThreadLocal<ByteArrayOutputStream> pending = ThreadLocal.withInitial(ByteArrayOutputStream::new);

    LineTee(PrintStream original, Consumer<String> lines) {
        this.original = original;
        this.lines = lines;
    }

    @Override
    public void write(int b) {
        original.write(b);
        collect(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        original.write(b, off, len);
        for (int i = off; i < off + len; i++) {
            collect(b[i]);
        }
    }

    private void collect(int b) {
        ByteArrayOutputStream line = pending.get();
        if (b == '\n' || line.size() >= MAX_LINE) {
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            lines.accept(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text);
            if (b == '\n') {
                return;
            }
        }
        line.write(b);
    }

    @Override
    public void flush() throws IOException {
        original.flush();
    }
}
