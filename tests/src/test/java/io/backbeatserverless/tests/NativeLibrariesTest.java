package io.backbeatserverless.tests;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 33: the functions and the populator's task run on Graviton (arm64). Every native library a deployment jar holds
 * for Linux on x86_64 must be there for Linux on aarch64 too, or the code that loads it falls back (lz4-java to its Java
 * implementation, say) or fails on arm64. Lists each jar's native libraries and fails, naming them, when one lacks its
 * aarch64 build.
 */
class NativeLibrariesTest {

    private static final List<String> JARS = List.of("replicator", "status", "ops", "verifier", "populator");
    private static final Pattern NATIVE = Pattern.compile(".*\\.(so|dylib|dll|jnilib)$");
    private static final Set<String> X86 = Set.of("amd64", "x86_64", "x86-64", "x64");
    private static final Set<String> ARM = Set.of("aarch64", "aarch_64", "arm64");

    @Test
    void everyNativeLibraryForLinuxOnX86HasItsAarch64Build() throws IOException {
        Map<String, Set<String>> missing = new TreeMap<>();
        Set<String> checked = new TreeSet<>();
        for (String function : JARS) {
            Path jar = jar(function);
            List<String> natives = new ArrayList<>();
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                zip.stream().map(java.util.zip.ZipEntry::getName).filter(n -> NATIVE.matcher(n).matches()).forEach(natives::add);
            }
            for (String library : natives) {
                String lower = library.toLowerCase(Locale.ROOT);
                if (!lower.contains("linux")) {
                    continue;
                }
                String x86 = X86.stream().filter(a -> segment(lower, a)).findFirst().orElse(null);
                if (x86 == null) {
                    continue;
                }
                checked.add(function + ": " + library);
                boolean hasArm = ARM.stream().anyMatch(arm -> natives.stream().map(n -> n.toLowerCase(Locale.ROOT))
                        .anyMatch(n -> n.equals(lower.replace(x86, arm))));
                if (!hasArm) {
                    missing.computeIfAbsent(function, f -> new TreeSet<>()).add(library);
                }
            }
        }
        System.out.println("native libraries for Linux on x86_64 checked for their aarch64 build: " + checked);
        assertThat(checked).as("the jars hold native libraries to check (lz4-java's, at least)").isNotEmpty();
        assertThat(missing).as("native libraries without an aarch64 build, per jar").isEmpty();
    }

    /** Whether {@code arch} is one of the path's segments, or a segment's '-'-separated part (linux-x86_64). */
    private static boolean segment(String path, String arch) {
        for (String part : path.split("[/\\-_.]")) {
            if (part.equals(arch)) {
                return true;
            }
        }
        return path.contains("/" + arch + "/") || path.contains("-" + arch + "/") || path.contains("-" + arch + ".");
    }

    private static Path jar(String function) {
        Path dir = Path.of("").toAbsolutePath();
        Path root = Files.exists(dir.resolve("functions")) ? dir : dir.getParent();
        Path jar = root.resolve("functions").resolve(function).resolve("target").resolve("lambda.jar");
        assertThat(jar).as("the deployment jar is built at package: ./mvnw package -pl functions/" + function).exists();
        return jar;
    }
}
