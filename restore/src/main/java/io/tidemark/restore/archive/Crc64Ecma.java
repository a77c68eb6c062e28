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
 * JDK has no CRC-64, and collections can run to terabytes, so this is table-driven slicing-by-16
 * (slicing-by-8 for direct buffers) rather than a byte-at-a-time loop.
 */
public final class Crc64Ecma {

    private static final long POLY = 0xC96C5795D7870F42L;
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long[][] TABLES = tables();
    // One static final field per table rather than TABLES[k] in a local: C2 then knows each
    // array's length is 256, so the "& 0xFF" indexes need no range checks, which in this loop
    // cost about as much as the lookups themselves.
    private static final long[] T0 = TABLES[0];
    private static final long[] T1 = TABLES[1];
    private static final long[] T2 = TABLES[2];
    private static final long[] T3 = TABLES[3];
    private static final long[] T4 = TABLES[4];
    private static final long[] T5 = TABLES[5];
    private static final long[] T6 = TABLES[6];
    private static final long[] T7 = TABLES[7];
    private static final long[] T8 = TABLES[8];
    private static final long[] T9 = TABLES[9];
    private static final long[] T10 = TABLES[10];
    private static final long[] T11 = TABLES[11];
    private static final long[] T12 = TABLES[12];
    private static final long[] T13 = TABLES[13];
    private static final long[] T14 = TABLES[14];
    private static final long[] T15 = TABLES[15];

    /** {@code TABLES[k][b]}: the register after byte {@code b} followed by {@code k} zero bytes. */
    private static long[][] tables() {
        long[][] t = new long[16][256];
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ POLY : crc >>> 1;
            }
            t[0][i] = crc;
        }
        for (int i = 0; i < 256; i++) {
            long crc = t[0][i];
            for (int k = 1; k < 16; k++) {
                crc = t[0][(int) (crc & 0xFF)] ^ (crc >>> 8);
                t[k][i] = crc;
            }
        }
        return t;
    }

    // kept inverted between calls so that update() does not have to invert twice per call
    private long register = ~0L;

    /**
     * Slicing-by-16: sixteen independent table lookups per 16 bytes, so the loop-carried
     * dependency (register to register) is paid once per 16 bytes instead of once per 8.
     */
    public void update(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        long crc = register;
        int i = offset;
        int end = offset + length;
        while (end - i >= 16) {
            long a = crc ^ (long) LONG_LE.get(bytes, i);
            long b = (long) LONG_LE.get(bytes, i + 8);
            crc = T15[(int) (a & 0xFF)]
                    ^ T14[(int) ((a >>> 8) & 0xFF)]
                    ^ T13[(int) ((a >>> 16) & 0xFF)]
                    ^ T12[(int) ((a >>> 24) & 0xFF)]
                    ^ T11[(int) ((a >>> 32) & 0xFF)]
                    ^ T10[(int) ((a >>> 40) & 0xFF)]
                    ^ T9[(int) ((a >>> 48) & 0xFF)]
                    ^ T8[(int) (a >>> 56)]
                    ^ T7[(int) (b & 0xFF)]
                    ^ T6[(int) ((b >>> 8) & 0xFF)]
                    ^ T5[(int) ((b >>> 16) & 0xFF)]
                    ^ T4[(int) ((b >>> 24) & 0xFF)]
                    ^ T3[(int) ((b >>> 32) & 0xFF)]
                    ^ T2[(int) ((b >>> 40) & 0xFF)]
                    ^ T1[(int) ((b >>> 48) & 0xFF)]
                    ^ T0[(int) (b >>> 56)];
            i += 16;
        }
        while (i < end) {
            crc = T0[(int) ((crc ^ bytes[i++]) & 0xFF)] ^ (crc >>> 8);
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
        while (view.remaining() >= 8) {
            crc ^= view.getLong();
            crc = T7[(int) (crc & 0xFF)]
                    ^ T6[(int) ((crc >>> 8) & 0xFF)]
                    ^ T5[(int) ((crc >>> 16) & 0xFF)]
                    ^ T4[(int) ((crc >>> 24) & 0xFF)]
                    ^ T3[(int) ((crc >>> 32) & 0xFF)]
                    ^ T2[(int) ((crc >>> 40) & 0xFF)]
                    ^ T1[(int) ((crc >>> 48) & 0xFF)]
                    ^ T0[(int) (crc >>> 56)];
        }
        while (view.hasRemaining()) {
            crc = T0[(int) ((crc ^ view.get()) & 0xFF)] ^ (crc >>> 8);
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
