package io.backbeatserverless.ops;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;

/**
 * The console's static files: the page, the SigV4 library it signs with (aws4fetch, vendored: its exact published
 * file, MIT licence header kept) and its icon. They hold no data and no secret, so they are the only routes served
 * without a signature, locally and in AWS (where API Gateway authorizes every other route with IAM); everything the
 * page shows comes from signed calls.
 */
public final class ConsoleFiles {

    /** A file: its content type and bytes. */
    public record File(String contentType, byte[] bytes) {
    }

    /** The paths API Gateway serves without authorization (BackbeatStack's public routes name the same). */
    public static final String PAGE = "/console";
    public static final String SIGNING_LIBRARY = "/console/aws4fetch-1.0.20.esm.mjs";
    public static final String ICON = "/favicon.ico";

    private static final Map<String, String[]> FILES = Map.of(
            PAGE, new String[] {"/console/index.html", "text/html; charset=utf-8"},
            PAGE + "/", new String[] {"/console/index.html", "text/html; charset=utf-8"},
            SIGNING_LIBRARY, new String[] {"/console/aws4fetch-1.0.20.esm.mjs", "text/javascript; charset=utf-8"},
            ICON, new String[] {"/console/favicon.svg", "image/svg+xml"});

    private ConsoleFiles() {
    }

    /** The file at {@code path}, if it is one of the console's. */
    public static Optional<File> at(String path) {
        String[] file = FILES.get(path);
        if (file == null) {
            return Optional.empty();
        }
        try (InputStream in = ConsoleFiles.class.getResourceAsStream(file[0])) {
            if (in == null) {
                throw new IllegalStateException("console file " + file[0] + " missing from the build");
            }
            return Optional.of(new File(file[1], in.readAllBytes()));
        } catch (IOException e) {
            throw new IllegalStateException("console file " + file[0] + " unreadable", e);
        }
    }
}
