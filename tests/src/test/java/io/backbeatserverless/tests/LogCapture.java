package io.backbeatserverless.tests;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects the formatted log lines of the whole run, so tests can assert what an operator would read. */
final class LogCapture extends AbstractAppender {

    private static final LogCapture INSTANCE = new LogCapture();
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogCapture() {
        super("test-capture", null, null, true, Property.EMPTY_ARRAY);
    }

    static synchronized LogCapture install() {
        if (!INSTANCE.isStarted()) {
            INSTANCE.start();
            LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
            ctx.getConfiguration().getRootLogger().addAppender(INSTANCE, null, null);
            ctx.updateLoggers();
        }
        return INSTANCE;
    }

    @Override
    public void append(LogEvent event) {
        lines.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
    }

    List<String> lines() {
        return List.copyOf(lines);
    }
}
