package io.backbeatserverless.localstack;

import com.robothy.netty.initializer.HttpServerInitializer;
import com.robothy.s3.rest.handler.LocalS3RouterFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An S3-compatible server (io.github.robothy:local-s3-rest) bound to one address, keeping the standard content
 * headers local-s3 alone would drop ({@link ContentHeaderKeeper}), doing S3's server-side copies as S3 does
 * and answering a delete marker's 404 as S3 does ({@link LocalS3Additions}), with S3's Object Lock and
 * server-side encryption ({@link LocalS3LockAndEncryption}), with object bytes on the heap or streamed to files ({@link LocalS3Services}). local-s3's own {@code LocalS3.start()} binds every interface and has no host
 * option, so this class builds the same netty server around local-s3's router and binds the address given.
 *
 * <p>Run as its own JVM by {@link S3ServerProcess}: it prints {@code READY <port>} once listening,
 * reports heap, direct memory and free disk every minute (so an operator sees a server running out before it does),
 * and exits when its standard input closes, so it never outlives the stack that started it. By hand:
 * {@code java -cp ... io.backbeatserverless.localstack.LoopbackS3Server --port 9000 --object-bytes DISK
 * --bytes-directory /tmp/s3-bytes} (keep its standard input open).
 */
@Command(name = "loopback-s3-server", mixinStandardHelpOptions = true,
        description = "An S3 server (local-s3) on one address; stops when its standard input closes.")
public final class LoopbackS3Server implements Callable<Integer> {

    @Option(names = "--port", required = true, description = "port to listen on (0: any free port, printed as READY <port>)")
    int port;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;
    @Option(names = "--name", defaultValue = "s3", description = "name in the memory reports (default: ${DEFAULT-VALUE})")
    String name;
    @Option(names = "--object-bytes", defaultValue = "DISK",
            description = "where object bytes live: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    LocalS3Services.ObjectBytes objectBytes;
    @Option(names = "--bytes-directory", description = "directory for --object-bytes DISK; deleted when the server stops (default: a new temporary one)")
    Path bytesDirectory;
    @Option(names = "--event-queue-url", description = "an SQS queue to send S3 event notifications of every bucket to")
    String eventQueueUrl;
    @Option(names = "--faults", defaultValue = "off", description = "faults to inject, e.g. '503=10 500=1 reset=5 delay=0.5 delay-ms=65000"
            + " seed=7' (percent of requests); a line 'faults SPEC' on standard input changes them at run time (default: ${DEFAULT-VALUE})")
    String faults;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoopbackS3Server()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path bytes = objectBytes == LocalS3Services.ObjectBytes.DISK
                ? (bytesDirectory != null ? Files.createDirectories(bytesDirectory) : Files.createTempDirectory("local-s3-" + name + "-"))
                : null;
        if (bytes != null) {
            // On any way out but SIGKILL: stdin closed (the stack stopped), SIGTERM, or an error.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(bytes), "delete-object-bytes"));
        }
        S3EventNotifier notifier = eventQueueUrl != null ? new S3EventNotifier(eventQueueUrl, host, port) : null;
        var services = LocalS3Services.create(objectBytes, bytes);
        var objectService = services.getInstance(com.robothy.s3.core.service.ObjectService.class);
        var router = new LocalS3LockAndEncryption(new LocalS3Additions(LocalS3RouterFactory.create(services), objectService), objectService,
                java.time.Clock.systemUTC());
        FaultInjector injector = new FaultInjector();
        injector.configure(FaultInjector.Plan.parse(faults));
        int cores = Runtime.getRuntime().availableProcessors();
        NioEventLoopGroup parent = new NioEventLoopGroup(1);
        NioEventLoopGroup child = new NioEventLoopGroup(cores);
        DefaultEventLoopGroup executor = new DefaultEventLoopGroup(Math.max(4, cores * 2));
        Channel channel = new ServerBootstrap()
                .group(parent, child)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(new HttpServerInitializer(executor, router));
                        channel.pipeline().addAfter("http-request-decoder", "request-body-coalescer", new RequestBodyCoalescer());
                        channel.pipeline().addAfter("http-response-encoder", "content-header-keeper", new ContentHeaderKeeper());
                        if (notifier != null) {
                            // Between netty's HTTP codec and local-s3's router: sees each request and its response.
                            channel.pipeline().addAfter("http-response-encoder", "s3-event-notifier", notifier.newHandler());
                        }
                        // Right after the codec, before everything else: a faulted request reaches nothing of the server.
                        channel.pipeline().addAfter("http-response-encoder", "fault-injector", injector.newHandler());
                    }
                })
                .bind(new InetSocketAddress(host, port)).sync().channel();
        System.out.println("READY " + ((InetSocketAddress) channel.localAddress()).getPort());
        System.out.flush();

        Thread reporter = Thread.ofPlatform().daemon().name("memory-report").start(() -> reportMemory(name, bytes));
        try {
            // Until the parent closes our stdin (it stopped or died), read commands from it.
            var commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
            for (String line = commands.readLine(); line != null; line = commands.readLine()) {
                if (line.startsWith("faults ")) {
                    try {
                        injector.configure(FaultInjector.Plan.parse(line.substring("faults ".length())));
                        System.out.println("FAULTS " + name + " " + injector.report());
                    } catch (IllegalArgumentException e) {
                        System.out.println("FAULTS " + name + " refused: " + e.getMessage());
                    }
                    System.out.flush();
                }
            }
        } catch (IOException ignored) {
            // parent gone
        } finally {
            System.out.println("FAULTS " + name + " " + injector.report());
            reporter.interrupt();
            channel.close().syncUninterruptibly();
            child.shutdownGracefully();
            parent.shutdownGracefully();
            executor.shutdownGracefully();
            if (notifier != null) {
                notifier.close();
            }
        }
        return 0;
    }

    private static void deleteTree(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + directory + ": " + e);
        }
    }

    private static void reportMemory(String name, Path bytes) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                return;
            }
            Runtime rt = Runtime.getRuntime();
            long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            System.out.printf("MEMORY %s heapUsedMiB=%d heapMaxMiB=%d directMiB=%d%s%n", name,
                    (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20, direct >> 20,
                    bytes == null ? "" : " diskFreeMiB=" + (bytes.toFile().getUsableSpace() >> 20));
            System.out.flush();
        }
    }
}
