package io.backbeatserverless.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Writes a benchmark's result table into docs/benchmarks.md, between {@code <!-- results:NAME -->} and
 * {@code <!-- /results:NAME -->}, with the command that reproduces it, the date and the commit; the
 * prose around the markers is left alone.
 */
final class ResultsPage {

    static final Path DEFAULT = Path.of("docs/benchmarks.md");

    private ResultsPage() {
    }

    static void write(Path page, String name, String command, String table) throws IOException {
        String begin = "<!-- results:" + name + " -->";
        String end = "<!-- /results:" + name + " -->";
        String section = begin + "\n" + "Measured " + LocalDate.now(ZoneOffset.UTC) + " at commit " + commit()
                + " (written by the harness):\n\n```\n" + command + "\n```\n\n" + table.strip() + "\n" + end;
        String text = Files.exists(page) ? Files.readString(page) : "";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        String updated = from >= 0 && to > from
                ? text.substring(0, from) + section + text.substring(to + end.length())
                : text + (text.endsWith("\n") || text.isEmpty() ? "" : "\n") + "\n" + section + "\n";
        Files.writeString(page, updated);
        System.out.println("results written to " + page + " (section " + name + ")");
    }

    private static String commit() {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes()).strip();
            return git.waitFor() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
