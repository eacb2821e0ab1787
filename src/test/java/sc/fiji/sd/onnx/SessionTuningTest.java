package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

/**
 * The choice of ONNX Runtime settings per component, and the optimised-model files that make ALL cost nothing after
 * the first load: what is chosen and what is written and read, never how fast.
 */
class SessionTuningTest {

	@TempDir
	Path tmp;

	/** A copy of the identity model in a component folder of a model ({@code <tmp>/model/<component>/model.onnx}). */
	private Path component(String component) throws Exception {
		Path dir = Files.createDirectories(tmp.resolve("model").resolve(component));
		return Files.copy(ExecutionProvidersTest.identityModel(), dir.resolve("model.onnx"));
	}

	/** Where the defaults keep the optimised file of {@code model} at ALL in {@code cacheRoot}. */
	private static Path entryAtAll(Path model, Path cacheRoot) throws Exception {
		return new OptimizedModelCache(cacheRoot).entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(),
			OnnxEnvironment.get().getVersion());
	}

	/** The cache's folders (entries, staging folders), without the entries' lock files. */
	static List<Path> entries(Path cacheRoot) throws Exception {
		try (Stream<Path> all = Files.list(cacheRoot)) {
			return all.filter(Files::isDirectory).sorted().toList();
		}
	}

	@Test
	void everyComponentRunsAtAllByDefault() {
		RuntimeOptions o = RuntimeOptions.DEFAULTS;
		for (String c : List.of("text_encoder", "text_encoder_2", "unet", "controlnet", "vae_decoder", "vae_encoder"))
			assertEquals(OptLevel.ALL_OPT, o.optLevel(c), c);
		assertEquals(OptLevel.BASIC_OPT, o.optLevel("safety_checker"), "components not tuned stay at the base level");
		assertEquals(OptimizedModelCache.userFolder(), o.optimizedModels());
		// one level asked for explicitly (bench --opt-level, sd.optLevel) means every component
		RuntimeOptions extended = o.withOptLevel(OptLevel.EXTENDED_OPT);
		for (String c : List.of("text_encoder", "unet", "vae_decoder", "vae_encoder"))
			assertEquals(OptLevel.EXTENDED_OPT, extended.optLevel(c), c);
		assertEquals(OptLevel.ALL_OPT, extended.withOptLevel("unet", OptLevel.ALL_OPT).optLevel("unet"));
		assertEquals(OptLevel.EXTENDED_OPT, extended.withOptLevel("unet", OptLevel.ALL_OPT).optLevel("vae_decoder"));
	}

	@Test
	void withoutAnOptimisedFileOnlyTheVaeIsOptimisedAtAllInMemoryUnderTheDefaults() {
		RuntimeOptions o = RuntimeOptions.DEFAULTS;
		assertEquals(OptLevel.BASIC_OPT, SessionTuning.levelWithoutOptimizedFile(o, "unet"), "55 s and 2.2 GB at ALL");
		assertEquals(OptLevel.BASIC_OPT, SessionTuning.levelWithoutOptimizedFile(o, "text_encoder"));
		assertEquals(OptLevel.BASIC_OPT, SessionTuning.levelWithoutOptimizedFile(o, "text_encoder_2"));
		assertEquals(OptLevel.ALL_OPT, SessionTuning.levelWithoutOptimizedFile(o, "vae_decoder"));
		assertEquals(OptLevel.ALL_OPT, SessionTuning.levelWithoutOptimizedFile(o, "vae_encoder"));
		// a level asked for is kept, in memory if need be (bench's sd4j configuration optimises on every load)
		assertEquals(OptLevel.ALL_OPT, SessionTuning.levelWithoutOptimizedFile(o.withOptLevel(OptLevel.ALL_OPT),
			"unet"));
		assertEquals(OptLevel.EXTENDED_OPT, SessionTuning.levelWithoutOptimizedFile(o.withOptLevel("unet",
			OptLevel.EXTENDED_OPT), "unet"));
		assertEquals(OptLevel.NO_OPT, SessionTuning.levelWithoutOptimizedFile(o.withOptLevel(OptLevel.NO_OPT), "unet"));
	}

	@Test
	void onlyLevelsAboveBasicOnTheCpuWithACacheFolderKeepAnOptimisedFile() {
		RuntimeOptions o = RuntimeOptions.DEFAULTS.withOptimizedModels(tmp);
		assertTrue(SessionTuning.keepsOptimizedFile(o, OptLevel.ALL_OPT, Device.CPU));
		assertTrue(SessionTuning.keepsOptimizedFile(o, OptLevel.EXTENDED_OPT, Device.CPU));
		assertFalse(SessionTuning.keepsOptimizedFile(o, OptLevel.BASIC_OPT, Device.CPU), "BASIC costs nothing to redo");
		assertFalse(SessionTuning.keepsOptimizedFile(o, OptLevel.NO_OPT, Device.CPU));
		assertFalse(SessionTuning.keepsOptimizedFile(o, OptLevel.ALL_OPT, Device.CUDA), "CPU layouts only");
		assertFalse(SessionTuning.keepsOptimizedFile(o.withOptimizedModels(null), OptLevel.ALL_OPT, Device.CPU));
	}

	@Test
	void theSystemPropertiesChooseOneLevelOrNoOptimisedFiles() {
		String saved = System.getProperty("sd.optimizedModels"), level = System.getProperty("sd.optLevel");
		try {
			System.setProperty("sd.optimizedModels", "off");
			System.setProperty("sd.optLevel", "basic");
			RuntimeOptions o = RuntimeOptions.fromSystemProperties();
			assertNull(o.optimizedModels());
			assertEquals(OptLevel.BASIC_OPT, o.optLevel("vae_decoder"), "an explicit level is every component's");
			System.setProperty("sd.optimizedModels", tmp.toString());
			System.clearProperty("sd.optLevel");
			assertEquals(tmp, RuntimeOptions.fromSystemProperties().optimizedModels());
			assertEquals(OptLevel.ALL_OPT, RuntimeOptions.fromSystemProperties().optLevel("vae_decoder"));
		}
		finally {
			if (saved == null) System.clearProperty("sd.optimizedModels");
			else System.setProperty("sd.optimizedModels", saved);
			if (level == null) System.clearProperty("sd.optLevel");
			else System.setProperty("sd.optLevel", level);
		}
	}

	@Test
	void theCacheKeyChangesWithTheModelTheLevelAndTheRuntimeVersionOnly() throws Exception {
		Path model = component("vae_decoder");
		OptimizedModelCache cache = new OptimizedModelCache(tmp.resolve("cache"));
		Path a = cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(), "1.29.0");
		assertEquals(a, cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(), "1.29.0"), "same inputs, same entry");
		assertTrue(a.startsWith(tmp.resolve("cache")), "in the cache folder, not beside the model");
		assertTrue(a.getFileName().toString().startsWith("vae_decoder-"), a.toString());
		assertNotEquals(a, cache.entry(model, OptLevel.EXTENDED_OPT, Device.CPU, Map.of(), "1.29.0"));
		assertNotEquals(a, cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(), "1.30.0"));
		assertNotEquals(a, cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of("session.x", "1"), "1.29.0"));
		Files.writeString(model.resolveSibling("weights.pb"), "external weights");
		Path withWeights = cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(), "1.29.0");
		assertNotEquals(a, withWeights, "the files beside the model (external weights) count");
		// a copy of the model (same contents, other times) shares the entry: tests and re-extracted models reuse it
		Path copy = Files.createDirectories(tmp.resolve("copy").resolve("vae_decoder"));
		Files.copy(model, copy.resolve("model.onnx"));
		Files.writeString(copy.resolve("weights.pb"), "external weights");
		Files.setLastModifiedTime(copy.resolve("weights.pb"), java.nio.file.attribute.FileTime.fromMillis(0));
		assertEquals(withWeights, cache.entry(copy.resolve("model.onnx"), OptLevel.ALL_OPT, Device.CPU, Map.of(),
			"1.29.0"));
		Files.write(model, Files.readAllBytes(model), java.nio.file.StandardOpenOption.APPEND);
		assertNotEquals(withWeights, cache.entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(), "1.29.0"),
			"a changed model file");
	}

	@Test
	void theFirstLoadAtAllWritesTheOptimisedFileAndLaterLoadsReadIt() throws Exception {
		Path model = component("vae_decoder"), cacheRoot = tmp.resolve("cache"), entry = entryAtAll(model, cacheRoot);
		RuntimeOptions o = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(cacheRoot);
		try (OrtSession s = new SessionFactory(o).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		Path written = OptimizedModelCache.complete(entry);
		assertNotNull(written, "written on the first load");
		long modified = Files.getLastModifiedTime(written).toMillis();
		try (OrtSession s = new SessionFactory(o).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertEquals(modified, Files.getLastModifiedTime(written).toMillis(), "read, not written again");
		assertEquals(List.of(entry), entries(cacheRoot), "no staging folder left behind");
		// the UNet too, in its own entry; a LoRA-patched session never is (the key knows nothing of the patch)
		Path unet = component("unet");
		try (OrtSession s = new SessionFactory(o).open(unet, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertNotNull(OptimizedModelCache.complete(entryAtAll(unet, cacheRoot)));
		assertEquals(2, entries(cacheRoot).size());
	}

	@Test
	void entriesUnusedFor30DaysAreRemovedWhenANewOneIsWrittenAndUsedOnesAreKept() throws Exception {
		Path cacheRoot = tmp.resolve("cache");
		RuntimeOptions o = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(cacheRoot);
		Path decoder = component("vae_decoder"), decoderEntry = entryAtAll(decoder, cacheRoot);
		try (OrtSession s = new SessionFactory(o).open(decoder, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		long old = System.currentTimeMillis() - java.time.Duration.ofDays(31).toMillis();
		Path stale = Files.createDirectories(cacheRoot.resolve("unet-of-a-model-deleted-long-ago"));
		Files.writeString(stale.resolve(OptimizedModelCache.MODEL), "weights nobody loads any more");
		Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(old));
		Files.setLastModifiedTime(decoderEntry, java.nio.file.attribute.FileTime.fromMillis(old));
		Path staleLock = Files.writeString(stale.resolveSibling(stale.getFileName() + ".lock"), "");
		Path decoderLock = decoderEntry.resolveSibling(decoderEntry.getFileName() + ".lock");
		for (Path lock : List.of(staleLock, decoderLock))
			Files.setLastModifiedTime(lock, java.nio.file.attribute.FileTime.fromMillis(old));
		// loading the decoder again reads its entry and marks it used
		try (OrtSession s = new SessionFactory(o).open(decoder, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertTrue(Files.exists(stale), "reading an entry prunes nothing");
		// writing a new entry (the encoder's) prunes what was not used for 30 days
		try (OrtSession s = new SessionFactory(o).open(component("vae_encoder"), SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertFalse(Files.exists(stale), "unused for 31 days");
		assertFalse(Files.exists(staleLock), "its lock file too");
		assertTrue(Files.exists(decoderLock), "the lock file of an entry that is kept");
		assertNotNull(OptimizedModelCache.complete(decoderEntry), "used today, kept");
	}

	@Test
	void aDamagedOptimisedFileIsWrittenAgainAndAnUnwritableCacheOptimisesInMemory() throws Exception {
		Path model = component("vae_decoder"), cacheRoot = tmp.resolve("cache"), entry = entryAtAll(model, cacheRoot);
		RuntimeOptions o = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(cacheRoot);
		Files.createDirectories(entry);
		Files.writeString(entry.resolve(OptimizedModelCache.MODEL), "not a model");
		try (OrtSession s = new SessionFactory(o).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs(), "the damaged file is not used");
		}
		assertTrue(Files.size(entry.resolve(OptimizedModelCache.MODEL)) > 20, "written again");

		Path blocked = tmp.resolve("a-file");
		Files.writeString(blocked, "the cache folder cannot be created under a file");
		try (OrtSession s = new SessionFactory(o.withOptimizedModels(blocked.resolve("cache"))).open(model,
			SessionMemory.ARENA))
		{
			assertEquals(3, s.getNumInputs(), "still opened, optimised in memory");
		}
	}

	@Test
	void cfgIsBatchedAbove384OnlyWhereTheBatchedPeakIsWithinTheGoalAndTheFreeMemory() {
		long gb = 1L << 30, weights = 4 * gb; // SD 1.5: goal 1.5 × 4 + 1 = 7 GB
		assertEquals(7 * gb, SessionTuning.memoryGoal(weights));
		assertTrue(SessionTuning.batchedCfgFits(6 * gb, weights, 20 * gb), "512²: ≈ 6.3 GB estimated");
		assertFalse(SessionTuning.batchedCfgFits(10 * gb, weights, 20 * gb), "768²: over the goal");
		assertFalse(SessionTuning.batchedCfgFits(6 * gb, weights, 5 * gb), "not in the free memory");
		int p512 = 64 * 64, p256 = 32 * 32;
		assertEquals(CfgMode.BATCHED, CfgMode.AUTO.resolve("CPU", p512, true));
		assertEquals(CfgMode.SEPARATE, CfgMode.AUTO.resolve("CPU", p512, false));
		assertEquals(CfgMode.BATCHED, CfgMode.AUTO.resolve("CPU", p256, false), "small sizes batch anyway");
		assertEquals(CfgMode.BATCHED, CfgMode.AUTO.resolve("CUDA", p512, false));
		assertEquals(CfgMode.SEPARATE, CfgMode.SEPARATE.resolve("CPU", p256, true), "an explicit mode is kept");
	}
}
