package io.backbeatserverless.tests;

import io.backbeatserverless.localstack.ChildProcess;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * How the stack reports a child server's exit: a stop it asked for is routine, a death on its own is an ERROR an
 * operator must see. The child here is a shell that, like the stack's servers, exits when its standard input closes.
 */
class ChildProcessExitTest {

    private static final LogCapture LOGS = LogCapture.install();

    private static ChildProcess startChild(String name) throws Exception {
        return ChildProcess.start(name, List.of("sh", "-c", "echo READY; read ignored"), "READY"::equals, Duration.ofSeconds(10));
    }

    @Test
    void aChildStoppedByTheSignalThatStopsTheStackIsNoFalseAlarm() throws Exception {
        ChildProcess child = startChild("child-stopped-with-the-stack");
        ProcessHandle handle = ProcessHandle.of(child.pid()).orElseThrow();
        // Ctrl-C or kill -TERM -<pgid> reaches the child as it reaches the stack: the child exits (143) a moment
        // before the stack's shutdown hook closes it.
        handle.destroy();
        handle.onExit().get(10, TimeUnit.SECONDS);
        child.close();

        await().atMost(Duration.ofSeconds(10)).until(() -> lines(child).stream().anyMatch(l -> l.startsWith("INFO") && l.contains("stopped with the stack (exit code 143)")));
        assertThat(lines(child)).noneMatch(l -> l.contains("UNEXPECTEDLY"));
    }

    @Test
    void aChildThatDiesOnItsOwnIsAnError() throws Exception {
        ChildProcess child = startChild("child-that-dies");
        try {
            ProcessHandle.of(child.pid()).orElseThrow().destroyForcibly();

            await().atMost(Duration.ofSeconds(10)).until(() -> lines(child).stream()
                    .anyMatch(l -> l.startsWith("ERROR") && l.contains("STOPPED UNEXPECTEDLY with exit code 137")));
        } finally {
            child.close();
        }
    }

    private static List<String> lines(ChildProcess child) {
        return LOGS.lines().stream().filter(l -> l.contains("(pid " + child.pid() + ")")).toList();
    }
}
