package io.backbeatserverless.localstack;

import com.ctc.wstx.stax.WstxInputFactory;
import com.ctc.wstx.stax.WstxOutputFactory;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.xml.XmlFactory;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.robothy.s3.core.model.internal.LocalS3Metadata;
import com.robothy.s3.core.service.BucketService;
import com.robothy.s3.core.service.InMemoryBucketService;
import com.robothy.s3.core.service.InMemoryObjectService;
import com.robothy.s3.core.service.ObjectService;
import com.robothy.s3.core.service.manager.LocalS3ServicesInvocationHandler;
import com.robothy.s3.core.service.manager.vectors.LocalS3VectorsManager;
import com.robothy.s3.core.service.s3vectors.S3VectorsService;
import com.robothy.s3.core.storage.Storage;
import com.robothy.s3.rest.service.DefaultServiceFactory;
import com.robothy.s3.rest.service.ServiceFactory;

import javax.xml.stream.XMLInputFactory;
import java.lang.reflect.Proxy;
import java.nio.file.Path;

/**
 * local-s3's services, assembled from its public API the way {@code LocalS3} does it, with one difference that
 * matters here: bucket and version metadata stay in memory while object bytes can go to files.
 *
 * <p>local-s3's own modes are all-or-nothing. {@code IN_MEMORY} keeps every object in a {@code byte[]} on the heap,
 * so no object can pass 2 GiB and a 1 GiB one needs several GiB of heap. {@code PERSISTENCE} streams bytes to files
 * but also rewrites a bucket's whole metadata file on every write, which cuts small PUTs to about a quarter. With
 * {@link ObjectBytes#DISK} the bytes stream to one file per object or part under a directory, and metadata writes
 * cost what they cost in memory. Reads stream from the file; a ranged GET reads only its range, so a 5 GiB object
 * copied part by part never needs more heap than a part. A version listing's key marker is made exclusive, as S3's is
 * ({@link #exclusiveKeyMarker}).
 */
public final class LocalS3Services {

    /** Where a server keeps object bytes. */
    public enum ObjectBytes {
        /** On the heap (local-s3's in-memory storage): fastest for small objects, bounded by the heap. */
        MEMORY,
        /** One file per object or part, streamed in and out: objects of any size S3 allows. */
        DISK
    }

    private LocalS3Services() {
    }

    /**
     * @param bytesDirectory the directory for {@link ObjectBytes#DISK} (created if missing; the caller deletes it)
     */
    static ServiceFactory create(ObjectBytes objectBytes, Path bytesDirectory) {
        LocalS3Metadata metadata = new LocalS3Metadata();
        Storage storage = objectBytes == ObjectBytes.DISK ? Storage.createPersistent(bytesDirectory) : Storage.createInMemory();
        // The invocation handler takes the per-bucket read/write locks the services' annotations ask for.
        BucketService buckets = proxy(BucketService.class, InMemoryBucketService.create(metadata), metadata);
        ObjectService locked = proxy(ObjectService.class, InMemoryObjectService.create(metadata, storage), metadata);
        ObjectService objects = (ObjectService) Proxy.newProxyInstance(ObjectService.class.getClassLoader(), new Class<?>[] {ObjectService.class},
                (self, method, args) -> {
                    if (method.getName().equals("listObjectVersions") && args != null && args.length == 6) {
                        args = exclusiveKeyMarker(metadata, args);
                    }
                    Long initiated = method.getName().equals("completeMultipartUpload") && args != null && args.length == 4
                            ? initiation(metadata, (String) args[0], (String) args[1], (String) args[2]) : null;
                    try {
                        Object answer = method.invoke(locked, args);
                        if (initiated != null && answer instanceof com.robothy.s3.core.model.answers.CompleteMultipartUploadAns completed) {
                            lastModifiedAtInitiation(metadata, (String) args[0], (String) args[1], completed.getVersionId(), initiated);
                        }
                        return answer;
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });

        ServiceFactory services = new DefaultServiceFactory();
        services.register(BucketService.class, () -> buckets);
        services.register(ObjectService.class, () -> objects);
        XmlMapper xml = xmlMapper();
        services.register(XmlMapper.class, () -> xml);
        ObjectMapper json = jsonMapper();
        services.register(ObjectMapper.class, () -> json);
        // Unused by replication, but local-s3's router wires its S3 Vectors routes from this service.
        S3VectorsService vectors = LocalS3VectorsManager.createInMemory().s3VectorsService();
        services.register(S3VectorsService.class, () -> vectors);
        return services;
    }

    /**
     * S3's {@code key-marker} without a {@code version-id-marker} means "keys after this one", whether or not that key
     * exists. local-s3 instead lists the marker's own versions again (inclusive) and answers 404 when no such key
     * exists, which stalled verify whenever a site had not received a key the source listing paged from. Rewritten
     * here into what local-s3 does get right: the nearest existing key at or before the marker, with its last version
     * as the version marker, so the listing resumes right after it; from the start when no key comes before.
     * Arguments: bucket, delimiter, keyMarker, maxKeys, prefix, versionIdMarker. Listings with a delimiter are left as
     * they are (nothing here lists versions with one).
     */
    private static Object[] exclusiveKeyMarker(LocalS3Metadata metadata, Object[] args) {
        String bucket = (String) args[0];
        String delimiter = (String) args[1];
        String keyMarker = (String) args[2];
        String versionIdMarker = (String) args[5];
        if (keyMarker == null || versionIdMarker != null || delimiter != null) {
            return args;
        }
        var bucketMetadata = metadata.getBucketMetadata(bucket);
        if (bucketMetadata.isEmpty()) {
            return args; // local-s3 answers NoSuchBucket
        }
        var keys = bucketMetadata.get().getObjectMap();
        Object[] rewritten = args.clone();
        var atOrBefore = keys.floorEntry(keyMarker);
        while (atOrBefore != null && atOrBefore.getValue().getVersionedObjectMap().isEmpty()) {
            atOrBefore = keys.lowerEntry(atOrBefore.getKey());
        }
        if (atOrBefore == null) {
            rewritten[2] = null; // every key comes after the marker
        } else {
            rewritten[2] = atOrBefore.getKey();
            rewritten[5] = atOrBefore.getValue().getVersionedObjectMap().lastKey();
        }
        return rewritten;
    }

    /** When the upload was initiated, or null when local-s3 does not know it (it answers NoSuchUpload itself). */
    private static Long initiation(LocalS3Metadata metadata, String bucket, String key, String uploadId) {
        return metadata.getBucketMetadata(bucket)
                .map(b -> b.getUploads().get(key))
                .map(uploads -> uploads.get(uploadId))
                .map(com.robothy.s3.core.model.internal.UploadMetadata::getCreateDate)
                .orElse(null);
    }

    /**
     * A multipart object's Last-Modified is when its upload was initiated, not completed, as S3 reports it (S3 User
     * Guide, "Working with object metadata", Last-Modified): so the replicator's ordering is tested against S3's times,
     * where a version completed after a later plain PUT looks older. local-s3 lists versions by their ids, so the
     * listing's order stays the order they were written in.
     */
    private static void lastModifiedAtInitiation(LocalS3Metadata metadata, String bucket, String key, String versionId, long initiated) {
        metadata.getBucketMetadata(bucket).flatMap(b -> b.getObjectMetadata(key))
                .flatMap(object -> object.getVersionedObjectMetadata(versionId == null ? object.getLatestVersion() : versionId))
                .ifPresent(version -> version.setCreationDate(initiated));
    }

    private static <T> T proxy(Class<T> type, T service, LocalS3Metadata metadata) {
        var handler = new LocalS3ServicesInvocationHandler<>(service, bucket -> metadata.getBucketMetadata(bucket).get(), null);
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    /** The XML mapper local-s3's controllers expect: no namespaces, no DTDs or external entities. */
    private static XmlMapper xmlMapper() {
        XMLInputFactory input = new WstxInputFactory();
        input.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, Boolean.FALSE);
        input.setProperty(XMLInputFactory.SUPPORT_DTD, Boolean.FALSE);
        input.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, Boolean.FALSE);
        XmlMapper xml = new XmlMapper(new XmlFactory(input, new WstxOutputFactory()));
        xml.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        xml.registerModule(new Jdk8Module());
        xml.registerModule(new JavaTimeModule());
        return xml;
    }

    private static ObjectMapper jsonMapper() {
        ObjectMapper json = new ObjectMapper();
        json.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        json.configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);
        json.setSerializationInclusion(JsonInclude.Include.NON_NULL);
        json.registerModule(new Jdk8Module());
        json.registerModule(new JavaTimeModule());
        return json;
    }
}
