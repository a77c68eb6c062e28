package io.tidemark.shared.store;

import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.util.Locale;
import java.util.Set;

/**
 * The embedded store's door: a connection may say hello and authenticate (SCRAM-SHA-256 against
 * the secret in the data dir) and nothing else until it has. mongo-java-server has no
 * authentication of its own; its backend sees every command together with its connection, so the
 * check sits there, in front of every command, query and operation listing.
 */
final class StoreAuthentication {

    static final String USER = "tidemark";
    static final String AUTH_DB = "admin";

    /**
     * What a driver sends before authenticating: the handshake, the SASL conversation, and
     * getLastError, which the driver asks on every connection (monitoring ones never
     * authenticate) for a connection id; it reports only that connection's own last error.
     */
    private static final Set<String> BEFORE_AUTH = Set.of("hello", "ismaster", "getlasterror", "saslstart", "saslcontinue");
    private static final int UNAUTHORIZED = 13;
    private static final int AUTHENTICATION_FAILED = 18;
    private static final int CONVERSATION_ID = 1;

    /** Per connection: null, the exchange in progress, or {@link #AUTHENTICATED}. */
    private static final AttributeKey<Object> STATE = AttributeKey.valueOf(StoreAuthentication.class, "state");
    private static final Object AUTHENTICATED = new Object();

    private final ScramSha256 scram;

    StoreAuthentication(char[] secret) {
        this.scram = new ScramSha256(USER, secret);
    }

    /**
     * The reply to {@code command} if this gate answers it: a SASL step, or a refusal of anything
     * else on a connection that has not authenticated. Null lets the command run.
     *
     * <p>Refusals are returned as error replies rather than thrown: mongo-java-server logs every
     * thrown error at ERROR with the whole command, which would let any local user flood the
     * log, and would write SASL proofs into it.
     */
    Document answer(Channel channel, String database, String command, Document query) {
        String name = command.toLowerCase(Locale.ROOT);
        try {
            if (name.equals("saslstart")) {
                return start(channel, database, query);
            }
            if (name.equals("saslcontinue")) {
                return proceed(channel, query);
            }
        } catch (ScramSha256.Failure e) {
            // Never says why: neither the user name nor the stage of a failure is a caller's business.
            return error(AUTHENTICATION_FAILED, "AuthenticationFailed", "Authentication failed.");
        }
        if (!authenticated(channel) && !BEFORE_AUTH.contains(name)) {
            return error(UNAUTHORIZED, "Unauthorized", "command " + command + " requires authentication");
        }
        return null;
    }

    /** Refuses a query or an operation listing on a connection that has not authenticated. */
    void checkAuthenticated(Channel channel) {
        if (!authenticated(channel)) {
            throw new MongoServerError(UNAUTHORIZED, "Unauthorized", "this operation requires authentication");
        }
    }

    private static boolean authenticated(Channel channel) {
        return channel != null && channel.attr(STATE).get() == AUTHENTICATED;
    }

    private Document start(Channel channel, String database, Document query) throws ScramSha256.Failure {
        channel.attr(STATE).set(null);
        if (!AUTH_DB.equals(database) || !ScramSha256.MECHANISM.equals(query.get("mechanism"))) {
            throw new ScramSha256.Failure("wrong database or mechanism");
        }
        ScramSha256.Exchange exchange = scram.start(payload(query));
        channel.attr(STATE).set(exchange);
        return reply(false, exchange.serverFirst());
    }

    private Document proceed(Channel channel, Document query) throws ScramSha256.Failure {
        Object state = channel.attr(STATE).get();
        // One exchange per conversation: whatever the outcome, it cannot be continued again.
        channel.attr(STATE).set(null);
        if (!(state instanceof ScramSha256.Exchange exchange)) {
            throw new ScramSha256.Failure("no conversation");
        }
        byte[] serverFinal = exchange.finish(payload(query));
        channel.attr(STATE).set(AUTHENTICATED);
        // Done in one round: drivers ask for this with skipEmptyExchange and accept it anyway.
        return reply(true, serverFinal);
    }

    private static byte[] payload(Document query) throws ScramSha256.Failure {
        if (query.get("payload") instanceof BinData data) {
            return data.getData();
        }
        throw new ScramSha256.Failure("no payload");
    }

    private static Document reply(boolean done, byte[] payload) {
        return new Document("conversationId", CONVERSATION_ID)
                .append("done", done)
                .append("payload", new BinData(payload))
                .append("ok", 1.0);
    }

    private static Document error(int code, String codeName, String message) {
        return new Document("ok", 0.0).append("errmsg", message).append("code", code).append("codeName", codeName);
    }
}
