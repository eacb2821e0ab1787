package sc.fiji.sd.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import ai.onnxruntime.OnnxJavaType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.lora.Embedding;
import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.Fp32Model;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;
import sc.fiji.sd.text.ClipTokenizer;
import sc.fiji.sd.text.TriggerWords;

/**
 * A Stable Diffusion 1.x/2.x model folder (diffusers or optimum ONNX export) with its four ONNX sessions open.
 * <p>
 * Everything the pipeline needs to know is detected here, from the sessions first (input names, element types,
 * ranks, fixed dimensions) and from the configs second ({@code model_index.json}, component {@code config.json},
 * {@code scheduler/scheduler_config.json}). Load once and reuse: creating the sessions is the slow part
 * ({@link ModelProvider} keeps one per front end). Close to free the native memory.
 */
public final class StableDiffusionModel implements AutoCloseable {

	/** Latent scale of SD 1.x/2.x, used when no VAE config says otherwise. */
	public static final double DEFAULT_SCALING_FACTOR = 0.18215;
	public static final int DEFAULT_NATIVE_SIZE = 512;
	public static final int DEFAULT_SIZE_STEP = 64;
	public static final int DEFAULT_TIMESTEP_COND_DIM = 256;

	static final String MODEL_FOLDER_HELP = "A model folder is a diffusers/optimum ONNX export of Stable Diffusion 1.x, "
		+ "2.x or SDXL: model_index.json, text_encoder/model.onnx, unet/model.onnx, vae_decoder/model.onnx (vae_encoder/model.onnx "
		+ "for image to image and inpainting), tokenizer/vocab.json and tokenizer/merges.txt, and "
		+ "scheduler/scheduler_config.json; SDXL adds text_encoder_2/model.onnx and tokenizer_2/ (the refiner has only "
		+ "those two).";

	private final Path folder;
	private final OnnxComponent textEncoder, unet, vaeEncoder, vaeDecoder;
	private OnnxComponent textEncoder2; // SDXL's second text encoder, else null
	private final Path tokenizerDir;
	private final Path schedulerConfig;
	private final ModelInfo info;
	private double loadSeconds;
	private RuntimeOptions options;
	private TinyDecoder tinyDecoder;
	private ClipTokenizer tokenizer, tokenizer2;
	private InitializerOverrides overrides = InitializerOverrides.NONE;
	private List<ControlNetModel> controlNets = List.of();
	/** The fp16 VAE decoder rewritten in fp32, opened after its first overflow; null until then. */
	private OnnxComponent vaeDecoderFp32;

	private StableDiffusionModel(Path folder, OnnxComponent textEncoder, OnnxComponent unet, OnnxComponent vaeEncoder,
		OnnxComponent vaeDecoder, Path tokenizerDir, Path schedulerConfig, ModelInfo info)
	{
		this.folder = folder;
		this.textEncoder = textEncoder;
		this.unet = unet;
		this.vaeEncoder = vaeEncoder;
		this.vaeDecoder = vaeDecoder;
		this.tokenizerDir = tokenizerDir;
		this.schedulerConfig = schedulerConfig;
		this.info = info;
	}

	/** {@link #load(Path, RuntimeOptions)} on {@code device} (auto, cpu or cuda) with the default runtime options. */
	public static StableDiffusionModel load(Path folder, String device) {
		return load(folder, RuntimeOptions.DEFAULTS.withDevice(Device.parse(device)));
	}

	/**
	 * Validates the folder, opens the sessions with {@code options} (device, threads, memory handling) and detects the
	 * model's layout.
	 *
	 * @throws StableDiffusionException naming the missing or wrong file and what a model folder must contain
	 */
	public static StableDiffusionModel load(Path folder, RuntimeOptions options) {
		return load(folder, options, InitializerOverrides.NONE);
	}

	/**
	 * {@link #load(Path, RuntimeOptions)} with {@code overrides} replacing initializers of the components (LoRA-patched
	 * weights). The model owns {@code overrides} from here on and closes it after its sessions, also when loading fails.
	 */
	public static StableDiffusionModel load(Path folder, RuntimeOptions options, InitializerOverrides overrides) {
		return load(folder, options, overrides, List.of());
	}

	/**
	 * {@link #load(Path, RuntimeOptions, InitializerOverrides)} for generations guided by {@code controlNets}
	 * (OnnxStack's split layout; none: the plain model): the UNet is then the folder's {@code controlnet/model.onnx},
	 * which takes the ControlNets' residuals, and each ControlNet's session opens with the model, checked against it.
	 */
	public static StableDiffusionModel load(Path folder, RuntimeOptions options, InitializerOverrides overrides,
		List<Path> controlNets)
	{
		try {
			StableDiffusionModel model = loadWith(folder, options, overrides, controlNets);
			model.overrides = overrides;
			return model;
		}
		catch (RuntimeException e) {
			overrides.close();
			throw e;
		}
	}

	private static StableDiffusionModel loadWith(Path folder, RuntimeOptions options, InitializerOverrides overrides,
		List<Path> controlNets)
	{
		if (folder == null) throw new StableDiffusionException("No model folder given. " + MODEL_FOLDER_HELP);
		folder = folder.toAbsolutePath().normalize();
		validate(folder);
		if (!controlNets.isEmpty()) ControlNetModel.checkBaseFolder(folder);
		long start = System.nanoTime();

		JsonObject index = readJson(folder.resolve("model_index.json"));
		JsonObject unetConfig = readJson(folder.resolve("unet/config.json"));
		JsonObject textConfig = readJson(folder.resolve("text_encoder/config.json"));
		JsonObject vaeDecoderConfig = readJson(folder.resolve("vae_decoder/config.json"));
		JsonObject vaeEncoderConfig = readJson(folder.resolve("vae_encoder/config.json"));
		Path schedulerFile = folder.resolve("scheduler/scheduler_config.json");
		JsonObject schedulerConfig = readJson(schedulerFile);

		SessionFactory sessions = new SessionFactory(options);
		List<OnnxComponent> opened = new ArrayList<>();
		try {
			// first: on auto, decides CUDA or CPU; with ControlNets the UNet that takes their residuals (same weights)
			OnnxComponent unet = open(sessions, folder, "unet", controlNets.isEmpty() ? "unet" : "controlnet", opened,
				overrides);
			// SDXL's refiner has text_encoder_2 only
			OnnxComponent textEncoder = Files.isRegularFile(folder.resolve("text_encoder/model.onnx"))
				? open(sessions, folder, "text_encoder", "text_encoder", opened, overrides) : null;
			OnnxComponent textEncoder2 = Files.isRegularFile(folder.resolve("text_encoder_2/model.onnx"))
				? open(sessions, folder, "text_encoder_2", "text_encoder_2", opened, overrides) : null;
			OnnxComponent vaeDecoder = open(sessions, folder, "vae_decoder", "vae_decoder", opened, overrides);
			OnnxComponent vaeEncoder = Files.isRegularFile(folder.resolve("vae_encoder/model.onnx"))
				? open(sessions, folder, "vae_encoder", "vae_encoder", opened, overrides) : null;

			ModelInfo info = detect(folder, index, textEncoder, textEncoder2, unet, vaeEncoder, vaeDecoder,
				textConfig, unetConfig, vaeEncoderConfig, vaeDecoderConfig, schedulerConfig, sessions);
			StableDiffusionModel model = new StableDiffusionModel(folder, textEncoder, unet, vaeEncoder, vaeDecoder,
				folder.resolve("tokenizer"), Files.isRegularFile(schedulerFile) ? schedulerFile : null, info);
			model.textEncoder2 = textEncoder2;
			model.options = options;
			if (!controlNets.isEmpty()) {
				ControlNetModel.checkBaseUnet(info, unet);
				List<ControlNetModel> nets = new ArrayList<>();
				try {
					for (Path p : controlNets) nets.add(ControlNetModel.open(sessions, p, info, unet));
				}
				catch (RuntimeException e) {
					nets.forEach(ControlNetModel::close);
					throw e;
				}
				model.controlNets = List.copyOf(nets);
			}
			model.loadSeconds = (System.nanoTime() - start) / 1e9;
			return model;
		}
		catch (RuntimeException e) {
			opened.forEach(OnnxComponent::close);
			throw e;
		}
	}

	/** Checks the folder's files before any session is created, so the message names the missing file. */
	static void validate(Path folder) {
		if (!Files.exists(folder)) {
			throw new StableDiffusionException("Model folder " + folder + " does not exist. " + MODEL_FOLDER_HELP);
		}
		if (!Files.isDirectory(folder)) {
			throw new StableDiffusionException(folder + " is a file, not a model folder. " + MODEL_FOLDER_HELP);
		}
		boolean anyComponent = Files.isRegularFile(folder.resolve("model_index.json"))
			|| Files.isRegularFile(folder.resolve("unet/model.onnx"))
			|| Files.isRegularFile(folder.resolve("text_encoder/model.onnx"))
			|| Files.isRegularFile(folder.resolve("text_encoder_2/model.onnx"));
		if (!anyComponent) {
			String hint = Files.isRegularFile(folder.resolve("model.onnx")) || hasSuffix(folder, ".safetensors")
				|| hasSuffix(folder, ".ckpt") ? " It holds a single model file: convert the checkpoint to a diffusers "
					+ "ONNX export first (optimum-cli export onnx --model <id> <folder>)." : "";
			throw new StableDiffusionException(folder + " is not a Stable Diffusion ONNX export (no model_index.json, "
				+ "unet/ or text_encoder/)." + hint + " " + MODEL_FOLDER_HELP);
		}
		List<String> requiredFiles = new ArrayList<>(List.of("unet/model.onnx", "vae_decoder/model.onnx"));
		boolean sdxl = Files.isDirectory(folder.resolve("text_encoder_2")) || Files.isDirectory(folder.resolve("tokenizer_2"));
		if (sdxl) requiredFiles.addAll(List.of("text_encoder_2/model.onnx", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt"));
		// SDXL's refiner has no first encoder; every other export has one
		if (!sdxl || Files.isDirectory(folder.resolve("text_encoder"))) {
			requiredFiles.addAll(List.of("text_encoder/model.onnx", "tokenizer/vocab.json", "tokenizer/merges.txt"));
		}
		for (String required : requiredFiles) {
			if (!Files.isRegularFile(folder.resolve(required))) {
				throw new StableDiffusionException("The model folder " + folder + " is incomplete: " + required
					+ " is missing. " + MODEL_FOLDER_HELP);
			}
		}
	}

	private static boolean hasSuffix(Path folder, String suffix) {
		try (var files = Files.list(folder)) {
			return files.anyMatch(p -> p.getFileName().toString().endsWith(suffix));
		}
		catch (IOException e) {
			return false;
		}
	}

	/** Opens {@code subfolder}/model.onnx as {@code component} (the ControlNet UNet is the "unet", also for LoRAs). */
	private static OnnxComponent open(SessionFactory sessions, Path folder, String component, String subfolder,
		List<OnnxComponent> opened, InitializerOverrides overrides)
	{
		Path file = folder.resolve(subfolder).resolve("model.onnx");
		// The pipeline pins the outputs of the UNet and the VAE, so their arenas can be emptied (the UNet's after a
		// batch's last step, the VAE's after every call); the text encoder allocates its own output (PERFORMANCE.md).
		SessionMemory memory = component.startsWith("text_encoder") ? SessionMemory.NO_ARENA : SessionMemory.ARENA;
		OnnxComponent c = new OnnxComponent(component, file,
			sessions.open(file, memory, overrides.forComponent(component, file)), sessions.cpuArena(memory));
		opened.add(c);
		return c;
	}

	static ModelInfo detect(Path folder, JsonObject index, OnnxComponent text, OnnxComponent text2,
		OnnxComponent unet, OnnxComponent vaeEncoder, OnnxComponent vaeDecoder, JsonObject textConfig,
		JsonObject unetConfig, JsonObject vaeEncoderConfig, JsonObject vaeDecoderConfig, JsonObject schedulerConfig,
		SessionFactory sessions)
	{
		String pipelineClass = string(index, "_class_name", "");
		// Text encoder: token ids int32 (diffusers script) or int64 (optimum); width from the output shape. SDXL's
		// refiner has only the second encoder.
		OnnxComponent first = text != null ? text : text2;
		String ids = first.inputNamed("input_ids");
		OnnxJavaType idsType = first.inputType(ids);
		long[] idsShape = first.inputShape(ids);
		int tokens = idsShape.length == 2 && idsShape[1] > 0 ? (int) idsShape[1] : 77;
		String hidden = first.outputNamed("last_hidden_state");
		long[] hiddenShape = first.outputShape(hidden);
		unet.inputNamed("sample");
		unet.inputNamed("timestep");
		String ehs = unet.inputNamed("encoder_hidden_states");
		long[] ehsShape = unet.inputShape(ehs);
		SdxlConfig sdxl = SdxlDetection.of(folder, index, text, text2, unet, unetConfig);
		int textWidth = sdxl != null ? SdxlDetection.textWidth(text, text2, ehsShape) : lastDim(hiddenShape);
		if (textWidth <= 0) textWidth = integer(textConfig, "hidden_size", 0);
		if (textWidth <= 0) textWidth = lastDim(ehsShape);
		if (textWidth <= 0) textWidth = integer(unetConfig, "cross_attention_dim", 768);

		// UNet: 4 or 9 input channels. The diffusers script declares the channel axis dynamic, so fall back to the
		// config and to the pipeline class name.
		long[] sampleShape = unet.inputShape("sample");
		int inChannels = sampleShape.length == 4 && sampleShape[1] > 0 ? (int) sampleShape[1]
			: integer(unetConfig, "in_channels", pipelineClass.contains("Inpaint") ? 9 : 4);
		if (inChannels != 4 && inChannels != 9) {
			throw new StableDiffusionException(unet.file() + " takes " + inChannels + " input channels; Stable "
				+ "Diffusion UNets take 4 (or 9 for inpainting). This is not a supported Stable Diffusion model.");
		}
		int latentChannels = 4;
		OnnxJavaType unetType = unet.inputType("sample");
		OnnxJavaType timestepType = unet.inputType("timestep");
		boolean timestepScalar = unet.inputShape("timestep").length == 0;
		int condDim = 0;
		if (unet.hasInput("timestep_cond")) {
			condDim = lastDim(unet.inputShape("timestep_cond"));
			if (condDim <= 0) condDim = integer(unetConfig, "time_cond_proj_dim", DEFAULT_TIMESTEP_COND_DIM);
		}

		String vaeOut = "";
		if (vaeEncoder != null) {
			vaeEncoder.inputNamed("sample");
			vaeOut = vaeEncoder.outputNamed("latent_sample", "latent_parameters", "latent_dist");
		}
		vaeDecoder.inputNamed("latent_sample");

		double scaling = number(vaeDecoderConfig, "scaling_factor", number(vaeEncoderConfig, "scaling_factor",
			DEFAULT_SCALING_FACTOR));

		// Size step: the VAE shrinks 8 times, the UNet halves the size (len(block_out_channels) − 1) times; without a
		// config, its strided convolutions say how often (UnetDownsampling); SD's 64 when neither says.
		int sizeStep = DEFAULT_SIZE_STEP;
		JsonElement blocks = unetConfig.get("block_out_channels");
		if (blocks != null && blocks.isJsonArray() && blocks.getAsJsonArray().size() > 0) {
			sizeStep = 8 << (blocks.getAsJsonArray().size() - 1);
		}
		else {
			int downsampling = UnetDownsampling.of(unet.file());
			if (downsampling > 0) sizeStep = 8 * downsampling;
		}
		int nativeSize;
		if (sampleShape.length == 4 && sampleShape[2] > 0) nativeSize = (int) sampleShape[2] * 8;
		else if (unetConfig.has("sample_size")) nativeSize = integer(unetConfig, "sample_size", 64) * 8;
		else nativeSize = integer(vaeDecoderConfig, "sample_size", integer(vaeEncoderConfig, "sample_size",
			DEFAULT_NATIVE_SIZE));

		String variant = inChannels == 9 ? "inpainting (9-channel UNet)"
			: condDim > 0 ? "LCM (guidance through timestep_cond)" : "text to image";
		String predictionType = string(schedulerConfig, "prediction_type", "epsilon");
		String schedulerClass = string(schedulerConfig, "_class_name", "PNDMScheduler (default)");

		return new ModelInfo(ModelName.of(folder), folder, pipelineClass, variant,
			OnnxComponent.typeName(unetType), OnnxComponent.typeName(idsType), OnnxComponent.typeName(timestepType),
			timestepScalar, textWidth, tokens, latentChannels, inChannels, condDim, vaeOut, predictionType,
			schedulerClass, nativeSize, sizeStep, scaling, sessions.requested().label(), sessions.provider().name(),
			sessions.fallbackReason(), sdxl == null ? ModelFamily.ofTextWidth(textWidth)
				: SdxlDetection.family(pipelineClass, sdxl, inChannels), sdxl);
	}

	private static int lastDim(long[] shape) {
		return shape.length == 0 ? -1 : (int) shape[shape.length - 1];
	}

	/** Reads a JSON object; an absent file gives an empty object, a broken one a clear error. */
	static JsonObject readJson(Path file) {
		if (!Files.isRegularFile(file)) return new JsonObject();
		try {
			JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
			if (!e.isJsonObject()) throw new IllegalStateException("not a JSON object");
			return e.getAsJsonObject();
		}
		catch (IOException | RuntimeException e) {
			Throwable root = e;
			while (root.getCause() != null && root.getCause().getMessage() != null) root = root.getCause();
			throw new StableDiffusionException("Cannot read " + file + " (" + root.getMessage()
				+ "). Fix or replace the file; it must be the JSON written by the ONNX export.", e);
		}
	}

	static String string(JsonObject o, String key, String fallback) {
		JsonElement e = o.get(key);
		return e != null && e.isJsonPrimitive() ? e.getAsString() : fallback;
	}

	static int integer(JsonObject o, String key, int fallback) {
		JsonElement e = o.get(key);
		if (e != null && e.isJsonArray() && e.getAsJsonArray().size() > 0) e = e.getAsJsonArray().get(0);
		return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsInt() : fallback;
	}

	static double number(JsonObject o, String key, double fallback) {
		JsonElement e = o.get(key);
		return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : fallback;
	}

	public ModelInfo info() { return info; }
	/** Wall time it took to create the four sessions (benchmarks; session creation dominates a cold start). */
	public double loadSeconds() { return loadSeconds; }

	/** The runtime options the sessions were created with (the pipeline takes its CFG mode from them). */
	public RuntimeOptions runtimeOptions() { return options; }

	public Path folder() { return folder; }
	/** The (first) text encoder; null for SDXL's refiner, which has only {@link #textEncoder2()}. */
	public OnnxComponent textEncoder() { return textEncoder; }
	/** SDXL's second text encoder ({@code text_encoder_2}), or null. */
	public OnnxComponent textEncoder2() { return textEncoder2; }
	public OnnxComponent unet() { return unet; }
	/** The VAE encoder, or null when the export has none (text to image only). */
	public OnnxComponent vaeEncoder() { return vaeEncoder; }
	public OnnxComponent vaeDecoder() { return vaeDecoder; }

	/**
	 * The VAE decoder computing in fp32, for an fp16 decoder whose output overflowed to NaN or infinity (SDXL's fp16
	 * VAE at 1024×1024): its graph rewritten in fp32 ({@link Fp32Model}) and opened once, on first use, with the
	 * model's runtime options; null when the decoder holds no fp16.
	 */
	public synchronized OnnxComponent vaeDecoderFp32() {
		if (vaeDecoderFp32 != null || !Fp32Model.hasFp16(vaeDecoder.file())) return vaeDecoderFp32;
		Path dir = null;
		try {
			// in a folder named as the component, so that the session gets the VAE decoder's settings
			dir = Files.createTempDirectory("sd-vae-fp32");
			Path file = Files.createDirectories(dir.resolve("vae_decoder")).resolve("model.onnx");
			Fp32Model.write(vaeDecoder.file(), file);
			RuntimeOptions o = (options != null ? options : RuntimeOptions.DEFAULTS).withOptimizedModels(null);
			vaeDecoderFp32 = new OnnxComponent("vae_decoder", vaeDecoder.file(),
				new SessionFactory(o).open(file, SessionMemory.ARENA), o.cpuArena(SessionMemory.ARENA));
			return vaeDecoderFp32;
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write the fp32 copy of " + vaeDecoder.file() + ": "
				+ e.getMessage() + ". Use an fp32 export of the VAE decoder.", e);
		}
		finally {
			deleteTree(dir); // the session holds the weights: the file is not needed any more
		}
	}

	/** Whether an earlier decode overflowed and opened {@link #vaeDecoderFp32()}: later decodes start there. */
	public synchronized boolean vaeDecoderUpcast() { return vaeDecoderFp32 != null; }

	private static void deleteTree(Path dir) {
		if (dir == null) return;
		try (var files = Files.walk(dir)) {
			for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator)
				Files.deleteIfExists(f);
		}
		catch (IOException e) {
			// a temporary folder: left to the system
		}
	}

	public Path tokenizerDir() { return tokenizerDir; }

	/** The model's tokenizer, read on first use and kept with the model (pipelines come and go, the vocabulary stays). */
	public synchronized ClipTokenizer tokenizer() {
		if (tokenizer == null) tokenizer = ClipTokenizer.load(tokenizerDir);
		return tokenizer;
	}

	/**
	 * The trigger words of the textual-inversion embeddings added to the text encoder ({@link EmbeddingSet}), or
	 * {@link TriggerWords#NONE}.
	 */
	public TriggerWords triggerWords() {
		EmbeddingSet set = overrides.part(EmbeddingSet.class);
		return set == null ? TriggerWords.NONE : set.triggerWords(tokenizer(), Embedding.FIRST_ENCODER);
	}

	/** SDXL's second tokenizer ({@code tokenizer_2}: pads with {@code !} on SDXL base), read on first use. */
	public synchronized ClipTokenizer tokenizer2() {
		if (tokenizer2 == null) tokenizer2 = ClipTokenizer.load(folder.resolve("tokenizer_2"));
		return tokenizer2;
	}

	/** What replaces the file's weights in the sessions (a LoRA set), or {@link InitializerOverrides#NONE}. */
	public InitializerOverrides initializerOverrides() { return overrides; }

	/** The ControlNets loaded with the model, in the order given (empty: none, the UNet is unet/model.onnx). */
	public List<ControlNetModel> controlNets() { return controlNets; }

	/** scheduler/scheduler_config.json, or null when the export has none (SD 1.5's PNDM defaults apply). */
	public Path schedulerConfig() { return schedulerConfig; }

	/**
	 * The tiny decoder in {@code folder}, opened with this model's runtime options on first use and closed with the
	 * model; another folder closes the previous one.
	 */
	public synchronized TinyDecoder tinyDecoder(Path folder) {
		Path wanted = folder.toAbsolutePath().normalize();
		if (tinyDecoder != null && !tinyDecoder.folder().equals(wanted)) {
			tinyDecoder.close();
			tinyDecoder = null;
		}
		if (tinyDecoder == null) tinyDecoder = TinyDecoder.open(wanted, options);
		return tinyDecoder;
	}

	@Override
	public void close() {
		synchronized (this) {
			if (tinyDecoder != null) tinyDecoder.close();
			tinyDecoder = null;
		}
		for (OnnxComponent c : new OnnxComponent[] { unet, textEncoder, textEncoder2, vaeDecoder, vaeEncoder,
			vaeDecoderFp32 }) {
			if (c != null) c.close();
		}
		controlNets.forEach(ControlNetModel::close);
		overrides.close(); // after the sessions that use its tensors
	}
}
