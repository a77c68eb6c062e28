package io.tidemark.shared.testing;

import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

import java.util.Arrays;

/**
 * Passes each call to the printing logger; a message at INFO or above that it will not print is
 * formatted and checked here instead (printed ones are checked on standard error, with their stack
 * traces), so each line is checked once.
 */
final class ScanningLogger extends LegacyAbstractLogger {

    private static final long serialVersionUID = 1L;

    private final transient Logger printing;

    ScanningLogger(Logger printing) {
        this.printing = printing;
        this.name = printing.getName();
    }

    @Override
    public boolean isTraceEnabled() {
        return printing.isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return printing.isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return true;
    }

    @Override
    public boolean isWarnEnabled() {
        return true;
    }

    @Override
    public boolean isErrorEnabled() {
        return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments, Throwable thrown) {
        if (printing.isEnabledForLevel(level)) {
            Object[] all = thrown == null ? arguments : append(arguments, thrown);
            switch (level) {
                case ERROR -> printing.error(pattern, all);
                case WARN -> printing.warn(pattern, all);
                case INFO -> printing.info(pattern, all);
                case DEBUG -> printing.debug(pattern, all);
                case TRACE -> printing.trace(pattern, all);
            }
        } else if (level.toInt() >= Level.INFO.toInt()) {
            LogWatch.event(Thread.currentThread().getName(), MessageFormatter.basicArrayFormat(pattern, arguments), thrown);
        }
    }

    private static Object[] append(Object[] arguments, Throwable thrown) {
        Object[] all = arguments == null ? new Object[1] : Arrays.copyOf(arguments, arguments.length + 1);
        all[all.length - 1] = thrown;
        return all;
    }
}
