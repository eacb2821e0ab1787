package sc.fiji.sd.bench;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.SessionFactory;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/**
 * The child process of {@code bench --compare-configs}: one configuration, measured in a fresh process so that its
 * session load time and its peak resident memory (VmHWM) are its own. Prints {@code probe<TAB>key<TAB>value} lines on
 * standard output (seconds, bytes); progress goes to standard error.
 * <p>
 * A configuration probe opens every component with the configuration's session options, as the model loader does
 * (text encoder without the arena, the others with it, unless the configuration says otherwise), and calls each
 * stage on synthetic inputs of the requested size: one first call, then {@code calls} timed ones, outputs pinned as
 * the pipeline pins them. The pipeline probe ({@code --pipeline}) runs our own generations instead.
 */
public final class ConfigProbe {

	private final ConfigComparison.Config config;
	private final Path model;
	private final int width, height, calls;
	private final PrintStream out;
	/** Profile the VAE decoder (ONNX Runtime's profiler). */
	boolean profile;

	ConfigProbe(ConfigComparison.Config config, Path model, int width, int height, int calls, PrintStream out) {
		this.config = config;
		this.model = model;
		this.width = width;
		this.height = height;
		this.calls = calls;
		this.out = out;
	}

	/** {@code <config spec> <model> <width> <height> <calls> [steps guidance]}; see {@link ConfigComparison#probeCommand}. */
	public static void main(String[] args) throws Exception {
		ConfigComparison.Config config = ConfigComparison.Config.parse(args[0]);
		ConfigProbe probe = new ConfigProbe(config, Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
			Integer.parseInt(args[4]), System.out);
		probe.profile = List.of(args).contains("--profile");
		probe.emit("loadavg", Benchmark.loadAverage().split(" ")[0]);
		if (config.pipeline()) probe.generations(Integer.parseInt(args[5]), Double.parseDouble(args[6]));
		else probe.stages();
		probe.emit("rss.peak", MemoryStats.peakRss());
		probe.optimizers();
		System.out.flush();
		System.exit(0); // no lingering ONNX Runtime threads
	}

	/** The first load's optimising processes (none when the files were there): time summed, largest peak. */
	private void optimizers() {
		var runs = sc.fiji.sd.onnx.ModelOptimizer.runs();
		if (runs.isEmpty()) return;
		emit("optimize.count", runs.size());
		emit("optimize.seconds", runs.stream().mapToDouble(r -> r.seconds()).sum());
		emit("optimize.peak", runs.stream().mapToLong(r -> r.peakBytes()).max().orElse(0));
	}

	private void emit(String key, Object value) {
		out.println("probe\t" + key + "\t" + value);
		out.flush();
	}

	private static double since(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	/** Loads every component, then times each stage. */
	private void stages() throws OrtException {
		OnnxEnvironment.get();
		SessionFactory sessions = new SessionFactory(config.runtime());
		Map<String, OrtSession> open = new LinkedHashMap<>();
		try {
			double total = 0;
			for (String c : ConfigComparison.COMPONENTS) {
				Path file = model.resolve(c).resolve("model.onnx");
				if (!Files.isRegularFile(file)) continue;
				long t = System.nanoTime();
				open.put(c, profile && c.equals("vae_decoder") ? profiled(file, c) : sessions.open(file, memory(c)));
				double s = since(t);
				total += s;
				emit("load." + c, s);
			}
			emit("load", total);
			emit("rss.afterLoad", MemoryStats.rss());
			int textWidth = textWidth(open.get("text_encoder"));
			try (OrtSession.RunOptions release = ExecutionProviders.releaseArenaOptions()) {
				stage(open.get("text_encoder"), "text_encoder", 1, textWidth, ConfigComparison.TEXT, null, 1);
				OrtSession unet = open.get("unet");
				OrtSession.RunOptions unetRelease = releases("unet") ? release : null;
				stage(unet, "unet", 1, textWidth, ConfigComparison.UNET1, unetRelease, 2);
				stage(unet, "unet", 2, textWidth, ConfigComparison.UNET2, unetRelease, 1);
				stage(open.get("vae_decoder"), "vae_decoder", 1, textWidth, ConfigComparison.DECODE,
					releases("vae_decoder") ? release : null, 1);
				if (profile) profileSummary(open.get("vae_decoder"));
				if (open.containsKey("vae_encoder")) stage(open.get("vae_encoder"), "vae_encoder", 1, textWidth,
					ConfigComparison.ENCODE, releases("vae_encoder") ? release : null, 1);
			}
		}
		finally {
			for (OrtSession s : open.values()) s.close();
		}
	}

	/**
	 * The VAE decoder with ONNX Runtime's profiler on (its options made as the factory makes them, optimised in memory):
	 * the profile then says where a decode's time goes, operator by operator.
	 */
	private OrtSession profiled(Path file, String component) throws OrtException {
		try (var o = ExecutionProviders.sessionOptions(config.runtime(), sc.fiji.sd.onnx.ExecutionProviders.Device.CPU,
			memory(component), component))
		{
			o.enableProfiling(Path.of(System.getProperty("java.io.tmpdir"), "sd-profile-" + config.name()).toString());
			return OnnxEnvironment.get().createSession(file.toString(), o);
		}
	}

	/** Emits the profile of the decoder's calls: per operator type, and the runs' time outside the kernels. */
	private void profileSummary(OrtSession session) throws OrtException {
		Path file = Path.of(session.endProfiling());
		try {
			OrtProfile p = OrtProfile.read(file);
			int runs = Math.max(1, p.runs());
			emit("profile.runs", runs);
			emit("profile.run", p.runSeconds() / runs);
			emit("profile.kernels", p.kernelSeconds() / runs);
			p.byOperator().forEach((op, sec) -> emit("profile.op." + op, sec / runs));
		}
		catch (java.io.IOException | RuntimeException e) {
			emit("profile.error", 1);
		}
		finally {
			try {
				Files.deleteIfExists(file);
			}
			catch (java.io.IOException e) {
				// a temporary file
			}
		}
	}

	private SessionMemory memory(String component) {
		return component.equals("text_encoder") ? SessionMemory.NO_ARENA : SessionMemory.ARENA;
	}

	/** Whether the pipeline empties this component's arena (the UNet after a batch's last call, the VAE after each). */
	private boolean releases(String component) {
		return config.releaseArenas() && config.runtime().cpuArena(memory(component));
	}

	/**
	 * A first call, then {@code calls} timed ones (each of {@code group} session calls: two batch-1 UNet calls make
	 * one CFG step as two calls). The UNet's arena is released only after the last call of the stage, the VAE's after
	 * every call, as the pipeline does.
	 */
	private void stage(OrtSession session, String component, int batch, int textWidth, String stage,
		OrtSession.RunOptions release, int group) throws OrtException
	{
		if (session == null) return;
		boolean releaseEach = !component.equals("unet");
		Map<String, OnnxTensor> inputs = inputs(session, component, batch, textWidth);
		Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
		try {
			long t = System.nanoTime();
			try (OrtSession.Result r = session.run(inputs, releaseEach ? release : null)) {
				emit("first." + stage, since(t));
				for (Map.Entry<String, OnnxValue> e : r) pinned.put(e.getKey(), zeros((OnnxTensor) e.getValue()));
			}
			for (int i = 0; i < calls; i++) {
				t = System.nanoTime();
				for (int g = 0; g < group; g++) {
					boolean last = i == calls - 1 && g == group - 1;
					try (OrtSession.Result r = session.run(inputs, Set.of(), pinned, releaseEach || last ? release : null)) {
						// outputs stay in the pinned tensors
					}
				}
				double s = since(t);
				emit("call." + stage, s);
				if (group == 2) emit("call." + ConfigComparison.UNET1_SINGLE, s / 2);
			}
		}
		finally {
			inputs.values().forEach(OnnxTensor::close);
			pinned.values().forEach(OnnxTensor::close);
		}
	}

	/** Runs the pipeline (our generation, the default options) and reports whole generations and the calls made. */
	private void generations(int steps, double guidance) {
		ModelProvider cache = new ModelProvider();
		long t = System.nanoTime();
		StableDiffusionModel m = cache.get(model, config.runtime());
		emit("load", since(t));
		emit("rss.afterLoad", MemoryStats.rss());
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(m);
		pipeline.setCfgMode(config.runtime().cfg());
		GenerationRequest request = GenerationRequest.builder().prompt("a red circle on a blue background").steps(steps)
			.guidance(guidance).seed(42).size(width, height).build();
		t = System.nanoTime();
		pipeline.generate(request, ProgressListener.NONE);
		emit("first." + ConfigComparison.GENERATION, since(t));
		Map<String, Integer> counts = new LinkedHashMap<>();
		List<Long> batches = new ArrayList<>();
		OnnxComponent.CallListener counter = (component, in, result, nanos, released) -> {
			counts.merge(component.name(), 1, Integer::sum);
			if (component.name().equals("unet")) batches.add(batchOf(in.get("sample")));
		};
		for (OnnxComponent c : new OnnxComponent[] { m.textEncoder(), m.unet(), m.vaeDecoder() }) c.setCallListener(counter);
		for (int i = 0; i < calls; i++) {
			counts.clear();
			batches.clear();
			t = System.nanoTime();
			pipeline.generate(request, ProgressListener.NONE);
			emit("call." + ConfigComparison.GENERATION, since(t));
		}
		emit("count.text_encoder", counts.getOrDefault("text_encoder", 0));
		emit("count.unet", counts.getOrDefault("unet", 0));
		emit("count.vae_decoder", counts.getOrDefault("vae_decoder", 0));
		emit("unet.batch", batches.isEmpty() ? 0 : batches.get(0));
		cache.close();
	}

	private static long batchOf(Object tensor) {
		if (tensor instanceof OnnxTensor t) {
			long[] shape = t.getInfo().getShape();
			return shape.length > 0 ? shape[0] : 1;
		}
		return 1;
	}

	/** Width of the text encoder's hidden states (768 for SD 1.x) from its output, else 768. */
	private static int textWidth(OrtSession text) throws OrtException {
		if (text == null) return 768;
		for (NodeInfo n : text.getOutputInfo().values()) {
			if (n.getInfo() instanceof TensorInfo t && t.getShape().length == 3 && t.getShape()[2] > 0)
				return (int) t.getShape()[2];
		}
		return 768;
	}

	/** Synthetic inputs of the requested size for one component, from what its session declares. */
	Map<String, OnnxTensor> inputs(OrtSession session, String component, int batch, int textWidth) throws OrtException {
		Map<String, OnnxTensor> in = new LinkedHashMap<>();
		try {
			for (NodeInfo n : session.getInputInfo().values()) {
				TensorInfo info = (TensorInfo) n.getInfo();
				long[] shape = shape(n.getName(), info.getShape(), component, batch, textWidth);
				in.put(n.getName(), tensor(info.type, shape, n.getName()));
			}
			return in;
		}
		catch (OrtException | RuntimeException e) {
			in.values().forEach(OnnxTensor::close);
			throw e;
		}
	}

	/** The declared shape with its dynamic axes set: batch, 77 tokens, the latent or pixel size, the text width. */
	private long[] shape(String name, long[] declared, String component, int batch, int textWidth) {
		long[] s = declared.clone();
		long lh = height / 8, lw = width / 8;
		boolean pixels = component.equals("vae_encoder");
		for (int i = 0; i < s.length; i++) {
			if (s[i] > 0) continue;
			if (i == 0) s[i] = batch;
			else if (name.contains("input_ids")) s[i] = 77;
			else if (name.equals("encoder_hidden_states")) s[i] = i == 1 ? 77 : textWidth;
			else if (s.length == 4 && i == 1) s[i] = pixels ? 3 : 4;
			else if (s.length == 4 && i == 2) s[i] = pixels ? height : lh;
			else if (s.length == 4 && i == 3) s[i] = pixels ? width : lw;
			else s[i] = 1;
		}
		if (s.length > 0 && declared[0] > 0 && name.equals("sample") && component.equals("unet")) s[0] = declared[0];
		return s;
	}

	/** A tensor of the given type and shape: token ids, a mid-range timestep, or small pseudo-random floats. */
	private static OnnxTensor tensor(OnnxJavaType type, long[] shape, String name) throws OrtException {
		long count = 1;
		for (long d : shape) count *= d;
		int size = RecordedCall.elementSize(type);
		ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(count * size)).order(ByteOrder.nativeOrder());
		java.util.Random random = new java.util.Random(42);
		for (long i = 0; i < count; i++) {
			double v = name.contains("timestep") ? 500 : name.contains("input_ids") ? (i % 77 == 0 ? 49406 : 49407)
				: random.nextGaussian() * 0.5;
			switch (type) {
				case FLOAT: b.putFloat((float) v); break;
				case FLOAT16: b.putShort(Fp16.fromFloat((float) v)); break;
				case DOUBLE: b.putDouble(v); break;
				case INT32: b.putInt((int) v); break;
				case INT64: b.putLong((long) v); break;
				default: throw new IllegalArgumentException("Cannot make a " + type + " input '" + name + "'");
			}
		}
		b.rewind();
		return OnnxTensor.createTensor(OnnxEnvironment.get(), b, shape, type);
	}

	/** A zero tensor shaped like {@code like}, over a direct buffer: a pinned output. */
	private static OnnxTensor zeros(OnnxTensor like) throws OrtException {
		TensorInfo info = like.getInfo();
		long count = 1;
		for (long d : info.getShape()) count *= d;
		ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(count * RecordedCall.elementSize(info.type)))
			.order(ByteOrder.nativeOrder());
		return OnnxTensor.createTensor(OnnxEnvironment.get(), b, info.getShape(), info.type);
	}

	static String format(double seconds) {
		return String.format(Locale.ROOT, "%.6f", seconds);
	}
}
