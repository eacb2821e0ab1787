package sc.fiji.sd.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * The models the end-to-end tests run on: the embedded model and the random-weight fixtures of every export layout
 * ({@code src/test/resources/fixtures/<layout>}, which carry no tokenizer: a temporary copy gets the embedded model's).
 * Loaded once per test JVM and kept open (sessions are the slow part).
 */
public final class TestModels {

	/** Fixture layouts: optimum (int64 ids, scalar timestep, latent_parameters), fp16, 9-channel, LCM, v-prediction. */
	public static final List<String> FIXTURES = List.of("optimum", "int64-timestep", "fp16", "inpaint9", "lcm",
		"v-prediction");

	private static final Map<String, StableDiffusionModel> LOADED = new HashMap<>();
	private static final Map<String, StableDiffusionPipeline> PIPELINES = new HashMap<>();
	private static Path copies;

	private TestModels() {}

	/** "embedded" or a fixture name. */
	public static synchronized StableDiffusionModel model(String name) {
		return LOADED.computeIfAbsent(name, n -> StableDiffusionModel.load(folder(n), "cpu"));
	}

	/** One pipeline per model, shared: tests read UNet counters as differences. */
	public static synchronized StableDiffusionPipeline pipeline(String name) {
		return PIPELINES.computeIfAbsent(name, n -> new StableDiffusionPipeline(model(n)));
	}

	/** The ControlNet fixtures in OnnxStack's split layout, loaded with the {@code controlnet} base model. */
	public static final List<String> CONTROLNETS = List.of("controlnet-scale", "controlnet-noscale");
	/** The SDXL ControlNet fixture (SDXL's added conditioning too), for the {@code sdxl-controlnet} base model. */
	public static final List<String> SDXL_CONTROLNETS = List.of("sdxl-controlnet-scale");

	/**
	 * The {@code controlnet} fixture loaded with both {@link #CONTROLNETS} (its UNet then is controlnet/model.onnx);
	 * {@code pipeline("controlnet")} is the same folder without them (unet/model.onnx, the same weights).
	 */
	public static StableDiffusionPipeline controlNetPipeline() {
		return controlNetPipeline("controlnet");
	}

	/** A ControlNet base fixture ({@code controlnet} or {@code sdxl-controlnet}) loaded with its ControlNets. */
	public static synchronized StableDiffusionPipeline controlNetPipeline(String base) {
		List<String> nets = base.startsWith("sdxl-") ? SDXL_CONTROLNETS : CONTROLNETS;
		return PIPELINES.computeIfAbsent(base + "+", n -> new StableDiffusionPipeline(LOADED.computeIfAbsent(n,
			k -> StableDiffusionModel.load(folder(base), RuntimeOptions.DEFAULTS.withDevice(Device.CPU),
				InitializerOverrides.NONE, nets.stream().map(TestModels::controlNet).toList()))));
	}

	/** A ControlNet fixture's folder (ControlNets need no tokenizer: used in place). */
	public static Path controlNet(String name) {
		return fixturesRoot().resolve(name);
	}
	/**
	 * An imitation of the shipped model with its shipped ControlNet, made in {@code dir} from the split-layout fixtures
	 * (no fake files in {@code models/}): {@code dir/tiny-sd-shapes} (the {@code controlnet} fixture: a base with
	 * {@code controlnet/model.onnx}, plus the tokenizer) and beside it {@code dir/tiny-sd-shapes-controlnet} (the
	 * {@code controlnet-scale} fixture's model.onnx), laid out as {@code models/} will be. Returns the base's folder.
	 */
	public static Path embeddedWithControlNet(Path dir) throws IOException {
		Path base = dir.resolve(EmbeddedModel.NAME);
		copyTree(folder("controlnet"), base);
		copyTree(controlNet("controlnet-scale"), dir.resolve(EmbeddedModel.CONTROLNET_NAME));
		return base.toAbsolutePath();
	}

	/** SDXL fixture layouts: base, refiner (text_encoder_2 only, 5 time ids), Turbo (its scheduler), 9-channel. */
	public static final List<String> SDXL_FIXTURES = List.of("sdxl-base", "sdxl-refiner", "sdxl-turbo", "sdxl-inpaint");

	public static Stream<String> all() {
		return Stream.concat(Stream.of("embedded"), FIXTURES.stream());
	}

	/**
	 * The embedded model as {@code GoldenPixelsTest}'s digests were recorded from it: the shipped files (linked, not
	 * copied) except those under {@value #AS_RECORDED}, the scheduler config and the UNet of then. The digests pin the
	 * code, so their inputs stay as they were when the shipped model changes (its {@code sigma_max}, ninth session; its
	 * UNet, thirteenth): a digest follows a new input only where a session can record it on every kind of CPU.
	 */
	public static final String EMBEDDED_AS_RECORDED = "embedded-as-recorded";
	static final String AS_RECORDED = "src/test/resources/golden/tiny-sd-shapes";

	/** The model folder: the embedded model, or a temporary copy of a fixture with the tokenizer added. */
	public static synchronized Path folder(String name) {
		if (name.equals("embedded")) return EmbeddedModel.path();
		try {
			if (copies == null) {
				copies = Files.createTempDirectory("sd-fixtures");
				copies.toFile().deleteOnExit();
			}
			if (name.equals(EMBEDDED_AS_RECORDED)) return embeddedAsRecorded(copies.resolve(name));
			Path target = copies.resolve(name);
			if (!Files.isDirectory(target)) {
				copyTree(fixturesRoot().resolve(name), target);
				if (name.startsWith("sdxl-")) { // the fixture has each tokenizer's special-token files: add the vocabulary
					for (String tokenizer : new String[] { "tokenizer", "tokenizer_2" }) {
						if (!Files.isDirectory(target.resolve(tokenizer))) continue; // the refiner has tokenizer_2 only
						for (String file : new String[] { "vocab.json", "merges.txt" }) {
							Files.copy(Path.of("models", EmbeddedModel.NAME, "tokenizer", file),
								target.resolve(tokenizer).resolve(file), StandardCopyOption.REPLACE_EXISTING);
							target.resolve(tokenizer).resolve(file).toFile().deleteOnExit();
						}
					}
				}
				else copyTree(Path.of("models", EmbeddedModel.NAME, "tokenizer"), target.resolve("tokenizer"));
			}
			return target;
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/** {@code dir/tiny-sd-shapes}: the folder name is the provenance's {@code Model:}, part of every digest. */
	private static Path embeddedAsRecorded(Path dir) throws IOException {
		Path target = dir.resolve(EmbeddedModel.NAME);
		if (Files.isDirectory(target)) return target;
		Files.createDirectories(target);
		for (Path p : List.of(dir, target)) // deleted in reverse: contents first
			p.toFile().deleteOnExit();
		Path pinned = Path.of(AS_RECORDED);
		try (Stream<Path> entries = Files.list(EmbeddedModel.path())) {
			for (Path entry : (Iterable<Path>) entries::iterator) {
				String name = entry.getFileName().toString();
				Path source = Files.exists(pinned.resolve(name)) ? pinned.resolve(name) : entry;
				Path link = target.resolve(name);
				Files.createSymbolicLink(link, source.toAbsolutePath());
				link.toFile().deleteOnExit(); // the link, not what it points to
			}
		}
		return target;
	}

	static Path fixturesRoot() {
		String override = System.getProperty("sd.fixtures");
		return override != null ? Path.of(override) : Path.of("src/test/resources/fixtures");
	}

	public static void copyTree(Path from, Path to) throws IOException {
		try (Stream<Path> files = Files.walk(from)) {
			for (Path p : (Iterable<Path>) files::iterator) {
				Path t = to.resolve(from.relativize(p).toString());
				if (Files.isDirectory(p)) Files.createDirectories(t);
				else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
				t.toFile().deleteOnExit();
			}
		}
	}
}
