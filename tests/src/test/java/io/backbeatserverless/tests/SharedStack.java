package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.localstack.EmbeddedStack;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts the embedded stack once for the whole test run (from the real {@code localstack/backbeat.json},
 * moved to free ports) and stops it when the run ends. Tests isolate themselves by bucket and key names.
 */
public final class SharedStack implements BeforeAllCallback {

    private static volatile EmbeddedStack stack;

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(SharedStack.class.getName(), key -> new Running(startStack()), Running.class);
    }

    public static EmbeddedStack stack() {
        if (stack == null) {
            throw new IllegalStateException("annotate the test class with @ExtendWith(SharedStack.class)");
        }
        return stack;
    }

    private static EmbeddedStack startStack() {
        try {
            Path configFile = Path.of("../localstack/backbeat.json");
            if (!Files.exists(configFile)) {
                configFile = Path.of("localstack/backbeat.json");
            }
            BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(configFile));
            EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
            stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "768m", "512m"));
            return stack;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the embedded stack: " + e.getMessage(), e);
        }
    }

    private record Running(EmbeddedStack stack) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            stack.close();
        }
    }
}
