package io.tidemark.restore.archive;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The checksum mongo-tools puts in namespace EOF headers: Go's {@code hash/crc64} with the ECMA
 * table, i.e. reflected polynomial {@code 0xC96C5795D7870F42} with the register inverted before
 * and after (the variant catalogued as CRC-64/XZ; check value {@code 0x995DC9BBDF1939FA}). The
 * JDK has no CRC-64, and collections can run to terabytes, so this is slicing-by-8 rather than
 * a byte-at-a-time loop.
 */
public final class Crc64Ecma {

    private static final long POLY = 0xC96C5795D7870F42L;
    private static final long[][] TABLES = new long[8][256];
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ POLY : crc >>> 1;
            }
            TABLES[0][i] = crc;
        }
        for (int i = 0; i < 256; i++) {
            long crc = TABLES[0][i];
            for (int t = 1; t < 8; t++) {
                crc = TABLES[0][(int) (crc & 0xFF)] ^ (crc >>> 8);
                TABLES[t][i] = crc;
            }
        }
    }

    // kept inverted between calls so that update() does not have to invert twice per call
    private long register = ~0L;

    public void update(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        long crc = register;
        int i = offset;
        int end = offset + length;
        long[] t0 = TABLES[0], t1 = TABLES[1], t2 = TABLES[2], t3 = TABLES[3];
        long[] t4 = TABLES[4], t5 = TABLES[5], t6 = TABLES[6], t7 = TABLES[7];
        while (end - i >= 8) {
            crc ^= (long) LONG_LE.get(bytes, i);
            crc = t7[(int) (crc & 0xFF)]
                    ^ t6[(int) ((crc >>> 8) & 0xFF)]
                    ^ t5[(int) ((crc >>> 16) & 0xFF)]
                    ^ t4[(int) ((crc >>> 24) & 0xFF)]
                    ^ t3[(int) ((crc >>> 32) & 0xFF)]
                    ^ t2[(int) ((crc >>> 40) & 0xFF)]
                    ^ t1[(int) ((crc >>> 48) & 0xFF)]
                    ^ t0[(int) (crc >>> 56)];
            i += 8;
        }
        while (i < end) {
            crc = t0[(int) ((crc ^ bytes[i++]) & 0xFF)] ^ (crc >>> 8);
        }
        register = crc;
    }

    public void update(byte[] bytes) {
        update(bytes, 0, bytes.length);
    }

    /** Consumes nothing: reads {@code position..limit} without moving the buffer's position. */
    public void update(ByteBuffer buffer) {
        if (buffer.hasArray()) {
            update(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
            return;
        }
        ByteBuffer view = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long crc = register;
        long[] t0 = TABLES[0];
        while (view.remaining() >= 8) {
            crc ^= view.getLong();
            crc = TABLES[7][(int) (crc & 0xFF)]
                    ^ TABLES[6][(int) ((crc >>> 8) & 0xFF)]
                    ^ TABLES[5][(int) ((crc >>> 16) & 0xFF)]
                    ^ TABLES[4][(int) ((crc >>> 24) & 0xFF)]
                    ^ TABLES[3][(int) ((crc >>> 32) & 0xFF)]
                    ^ TABLES[2][(int) ((crc >>> 40) & 0xFF)]
                    ^ TABLES[1][(int) ((crc >>> 48) & 0xFF)]
                    ^ t0[(int) (crc >>> 56)];
        }
        while (view.hasRemaining()) {
            crc = t0[(int) ((crc ^ view.get()) & 0xFF)] ^ (crc >>> 8);
        }
        register = crc;
    }

    /** The checksum so far, as the bit pattern mongo-tools stores in the int64 {@code CRC} field. */
    public long value() {
        return ~register;
    }

    public void reset() {
        register = ~0L;
    }
}
