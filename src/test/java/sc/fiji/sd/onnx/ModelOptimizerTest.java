package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

/**
 * The first load's optimised-model file is written by a separate process: what is written, where, when it is not
 * written, and that a damaged or foreign entry is never read. Never how fast.
 */
class ModelOptimizerTest {

	@TempDir
	Path tmp;

	/** A copy of the external-data UNet fixture (graph + weights.pb) as {@code <tmp>/model/unet/model.onnx}. */
	private Path unet() throws Exception {
		Path source = ExecutionProvidersTest.identityModel().resolveSibling("external-data-unet");
		Path dir = Files.createDirectories(tmp.resolve("model").resolve("unet"));
		Files.copy(source.resolve("weights.pb"), dir.resolve("weights.pb"));
		return Files.copy(source.resolve("model.onnx"), dir.resolve("model.onnx"));
	}

	private RuntimeOptions options(Path cacheRoot) {
		return RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(cacheRoot);
	}

	private static Path entry(Path model, Path cacheRoot) throws Exception {
		return new OptimizedModelCache(cacheRoot).entry(model, OptLevel.ALL_OPT, Device.CPU, Map.of(),
			OnnxEnvironment.get().getVersion());
	}

	/** The runs this test added to the process-wide list. */
	private static List<ModelOptimizer.Run> runsSince(int before) {
		List<ModelOptimizer.Run> all = ModelOptimizer.runs();
		return all.subList(before, all.size());
	}

	@Test
	void theFirstLoadOptimisesInASeparateProcessAndALaterLoadReadsTheFile() throws Exception {
		Path model = unet(), cacheRoot = tmp.resolve("cache"), entry = entry(model, cacheRoot);
		int before = ModelOptimizer.runs().size();
		try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		List<ModelOptimizer.Run> runs = runsSince(before);
		assertEquals(1, runs.size(), "one optimising process: " + runs);
		assertTrue(runs.get(0).written(), runs.get(0).failure());
		assertEquals("unet", runs.get(0).component());
		assertTrue(runs.get(0).peakBytes() > 0, "the child reports its own peak");
		Path written = OptimizedModelCache.complete(entry);
		assertNotNull(written, "the child wrote the entry, manifest included");
		assertTrue(Files.isRegularFile(entry.resolve(OptimizedModelCache.WEIGHTS)), "weights in the external file");

		try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertEquals(1, runsSince(before).size(), "a later load reads the file, no second process");
		assertEquals(List.of(entry), SessionTuningTest.entries(cacheRoot), "no staging folder left behind");
	}

	@Test
	void aTruncatedOrForeignEntryIsNeverReadAndIsWrittenAgain() throws Exception {
		Path model = unet(), cacheRoot = tmp.resolve("cache"), entry = entry(model, cacheRoot);
		try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		Path weights = entry.resolve(OptimizedModelCache.WEIGHTS);
		long size = Files.size(weights);
		// a copy cut short (disk full, an interrupted sync): the manifest's sizes no longer match
		try (var ch = java.nio.channels.FileChannel.open(weights, java.nio.file.StandardOpenOption.WRITE)) {
			ch.truncate(size / 2);
		}
		assertNull(OptimizedModelCache.complete(entry), "a truncated entry is not complete");
		int before = ModelOptimizer.runs().size();
		try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertEquals(1, runsSince(before).size(), "written again");
		assertEquals(size, Files.size(weights));
		assertNotNull(OptimizedModelCache.complete(entry));

		// an entry without a manifest (half-written by an older build, or another model's file): a valid ONNX graph
		// with other inputs must not be opened in the model's place
		OptimizedModelCache.delete(entry);
		Files.createDirectories(entry);
		Files.copy(ExecutionProvidersTest.identityModel(), entry.resolve(OptimizedModelCache.MODEL));
		assertNull(OptimizedModelCache.complete(entry));
		try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs(), "the model's UNet, not the foreign graph");
			assertTrue(s.getInputNames().contains("sample"), s.getInputNames().toString());
		}
		assertNotNull(OptimizedModelCache.complete(entry), "replaced by the model's own");
	}

	@Test
	void nothingIsOptimisedWithTheCacheOffOrWhenTheOptimiserWouldNotFitInFreeMemory() throws Exception {
		Path model = unet(), cacheRoot = tmp.resolve("cache");
		int before = ModelOptimizer.runs().size();
		try (OrtSession s = new SessionFactory(options(null)).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertEquals(0, runsSince(before).size(), "cache off: no optimising process");

		SessionFactory tight = new SessionFactory(options(cacheRoot));
		tight.freeMemory(() -> ModelOptimizer.estimatedPeakBytes(model) - 1);
		try (OrtSession s = tight.open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs(), "opened unoptimised");
		}
		List<ModelOptimizer.Run> runs = runsSince(before);
		assertEquals(1, runs.size());
		assertFalse(runs.get(0).written());
		assertTrue(runs.get(0).failure().contains("not optimising") && runs.get(0).failure().contains("free"),
			runs.get(0).failure());
		assertFalse(Files.exists(cacheRoot), "nothing written");

		Path blocked = tmp.resolve("a-file");
		Files.writeString(blocked, "the cache folder cannot be created under a file");
		try (OrtSession s = new SessionFactory(options(blocked.resolve("cache"))).open(model, SessionMemory.ARENA)) {
			assertEquals(3, s.getNumInputs(), "opened unoptimised");
		}
		runs = runsSince(before);
		assertEquals(2, runs.size());
		assertTrue(runs.get(1).failure().contains("cache folder cannot be written"), runs.get(1).failure());
	}

	@Test
	void twoProcessesLoadingTheSameModelForTheFirstTimeWriteOneEntry() throws Exception {
		Path model = unet(), cacheRoot = tmp.resolve("cache"), entry = entry(model, cacheRoot);
		int before = ModelOptimizer.runs().size();
		ExecutorService pool = Executors.newFixedThreadPool(2);
		try {
			List<Future<Integer>> loads = new ArrayList<>();
			for (int i = 0; i < 2; i++) loads.add(pool.submit(() -> {
				try (OrtSession s = new SessionFactory(options(cacheRoot)).open(model, SessionMemory.ARENA)) {
					return (int) s.getNumInputs();
				}
			}));
			for (Future<Integer> f : loads) assertEquals(3, f.get());
		}
		finally {
			pool.shutdownNow();
		}
		List<ModelOptimizer.Run> runs = runsSince(before);
		assertEquals(2, runs.size());
		assertTrue(runs.stream().allMatch(ModelOptimizer.Run::written), runs.toString());
		assertNotNull(OptimizedModelCache.complete(entry));
		assertEquals(List.of(entry), SessionTuningTest.entries(cacheRoot), "one entry, no staging folder left");
	}

	@Test
	void theChildRunsOnThisJvmWithOurClassesAndOnnxRuntime() {
		String cp = ModelOptimizer.classPath();
		assertTrue(cp.contains("onnxruntime"), cp);
		List<String> cmd = ModelOptimizer.command(Path.of("m", "unet", "model.onnx"), Path.of("cache", "unet-x"),
			RuntimeOptions.DEFAULTS.withThreads(2), SessionMemory.ARENA, "unet");
		assertTrue(cmd.get(0).startsWith(System.getProperty("java.home")), cmd.get(0));
		assertEquals(List.of("unet", "ALL_OPT", "ARENA", "2", ""), cmd.subList(cmd.size() - 5, cmd.size()));
	}
}
