package io.tidemark.shared.store;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) for the embedded store's one
 * user: the mechanism every MongoDB driver speaks, so both of Tidemark's clients (and mongosh)
 * authenticate with nothing but a user name and the secret from the data dir.
 *
 * <p>Only the derived keys are kept, not the password. The proof check is constant-time. The
 * client checks the server's signature in turn, so a process that squats the store's port
 * without the secret cannot pass as the store.
 */
final class ScramSha256 {

    static final String MECHANISM = "SCRAM-SHA-256";
    /** MongoDB's own default for SCRAM-SHA-256; drivers refuse fewer than 4096. */
    static final int ITERATIONS = 15_000;

    /** The client's messages did not follow the protocol or its proof was wrong. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    private final String user;
    private final byte[] salt;
    private final byte[] storedKey;
    private final byte[] serverKey;
    private final SecureRandom random = new SecureRandom();

    ScramSha256(String user, char[] password) {
        this.user = user;
        this.salt = new byte[16];
        random.nextBytes(salt);
        byte[] salted = hi(password, salt, ITERATIONS);
        this.storedKey = sha256(hmac(salted, "Client Key"));
        this.serverKey = hmac(salted, "Server Key");
    }

    /** One client's exchange: the first message has been answered, the final one is awaited. */
    final class Exchange {
        private final String clientFirstBare;
        private final String serverFirst;
        private final String nonce;

        private Exchange(String clientFirstBare, String serverFirst, String nonce) {
            this.clientFirstBare = clientFirstBare;
            this.serverFirst = serverFirst;
            this.nonce = nonce;
        }

        byte[] serverFirst() {
            return serverFirst.getBytes(StandardCharsets.UTF_8);
        }

        /** Checks the client's proof; returns the server-final message carrying the server's signature. */
        byte[] finish(byte[] clientFinalBytes) throws Failure {
            String clientFinal = new String(clientFinalBytes, StandardCharsets.UTF_8);
            int proofAt = clientFinal.lastIndexOf(",p=");
            if (proofAt < 0) {
                throw new Failure("no proof");
            }
            String withoutProof = clientFinal.substring(0, proofAt);
            // "c=biws": GS2 header "n,," (no channel binding), the only one this server offers.
            if (!withoutProof.equals("c=biws,r=" + nonce)) {
                throw new Failure("wrong channel binding or nonce");
            }
            byte[] proof;
            try {
                proof = Base64.getDecoder().decode(clientFinal.substring(proofAt + 3));
            } catch (IllegalArgumentException e) {
                throw new Failure("malformed proof");
            }
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
            byte[] clientSignature = hmac(storedKey, authMessage);
            if (proof.length != clientSignature.length) {
                throw new Failure("malformed proof");
            }
            byte[] clientKey = new byte[proof.length];
            for (int i = 0; i < proof.length; i++) {
                clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
            }
            if (!MessageDigest.isEqual(sha256(clientKey), storedKey)) {
                throw new Failure("wrong proof");
            }
            return ("v=" + Base64.getEncoder().encodeToString(hmac(serverKey, authMessage))).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Reads the client-first message ({@code n,,n=user,r=nonce}) and answers with salt, iterations and nonce. */
    Exchange start(byte[] clientFirstBytes) throws Failure {
        String clientFirst = new String(clientFirstBytes, StandardCharsets.UTF_8);
        if (!clientFirst.startsWith("n,,")) {
            throw new Failure("unsupported GS2 header");
        }
        String bare = clientFirst.substring(3);
        String[] parts = bare.split(",", -1);
        if (parts.length < 2 || !parts[0].startsWith("n=") || !parts[1].startsWith("r=") || parts[1].length() < 10) {
            throw new Failure("malformed client-first message");
        }
        if (!parts[0].substring(2).equals(user)) {
            throw new Failure("unknown user");
        }
        byte[] ours = new byte[24];
        random.nextBytes(ours);
        String nonce = parts[1].substring(2) + Base64.getEncoder().encodeToString(ours);
        String serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + ITERATIONS;
        return new Exchange(bare, serverFirst, nonce);
    }

    /** RFC 5802's Hi(): PBKDF2 with HMAC-SHA-256. The secret is ASCII, so SASLprep leaves it unchanged. */
    private static byte[] hi(char[] password, byte[] salt, int iterations) {
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(password, salt, iterations, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 unavailable", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        return hmac(key, data.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
