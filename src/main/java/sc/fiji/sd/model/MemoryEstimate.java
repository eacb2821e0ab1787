package sc.fiji.sd.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ModelOptimizer;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * How much memory a generation needs, estimated from the model and the size before anything runs, so a size that
 * cannot run is refused with a message instead of ONNX Runtime trying to allocate a terabyte.
 * <p>
 * The formula (bytes): {@code base + weights + max((8 × heads × N² + 4 × 12 × channels × P) × unetBatch, vae)}, where
 * <ul>
 * <li>{@code base} = 120 MB: the JVM, ONNX Runtime and the pipeline's buffers at the smallest size;</li>
 * <li>{@code weights} = the size of the model's ONNX files (ONNX Runtime keeps the weights in memory), twice that for a
 * component whose weights are fp16 (the CPU computes in fp32 and keeps fp32 copies);</li>
 * <li>{@code N} = latent positions at the highest resolution that has attention ({@code (w/8)·(h/8)}, divided by 4 for
 * each leading down block without attention), {@code heads} = the attention heads there ({@code attention_head_dim}
 * of {@code unet/config.json}, which diffusers uses as the head count; 8 when absent, as in SD 1.x). Self-attention
 * materialises an {@code N × N} float matrix per head twice (scores and softmax): 8 bytes per element;</li>
 * <li>{@code P} = latent positions ({@code (w/8)·(h/8)}) and {@code channels} = the UNet's first block width
 * ({@code block_out_channels[0]} of {@code unet/config.json}, else the output channels of the convolution that reads
 * {@code sample}): the convolutions' activations, about 12 float tensors of that width alive at the peak;</li>
 * <li>{@code unetBatch} = images per batch, doubled when classifier-free guidance runs as one batch-2 call;</li>
 * <li>{@code vae} = the VAE decoder's working memory, {@code 4 × 7 × vaeChannels × pixels}, with {@code vaeChannels}
 * = {@code block_out_channels[0]} of {@code vae_decoder/config.json} (128 for SD and SDXL when absent) and the pixels
 * of the image, at most 1024 × 1024 (larger images are decoded in tiles by default). It runs after the UNet, whose
 * working memory is handed back by then, so the larger of the two counts. Measured on SD's VAE decoder (SDXL's has
 * the same shapes), one call: 1,325 MiB at 512², 3,701 MiB at 1024²; at SDXL's 1024² it, not the UNet, sets the
 * peak.</li>
 * </ul> Calibrated on the embedded
 * model (4 heads, CPU, peak resident memory from {@code /usr/bin/time -f %M}, 1 step): 256² 226 MB measured vs 223
 * estimated (batched CFG), 384² 514 vs 496, 512² 708 vs 693 (CFG as two calls), 768² 2,967 vs 2,873. Only CPU runs are
 * checked: GPU memory is the driver's business.
 * <p>
 * SDXL (PERFORMANCE.md, "SDXL memory"): its config lists the heads per block ({@code attention_head_dim} [5, 10, 20],
 * no attention in the first block), so N is the positions at 1/2 latent resolution with 10 heads; the weights include
 * {@code text_encoder_2}. Checked against SDXL-shaped UNets of reduced depth (one UNet call, {@code UnetMemoryProbe}),
 * 512² to 1024², batch 1 and 2, depths 0–2: within 2 % of every measured peak (fp16-stored weights: 2.5 %).
 */
public final class MemoryEstimate {

	static final long BASE_BYTES = 120L << 20;
	static final int DEFAULT_HEADS = 8;
	/** SD 1.x and SDXL's first block width, when neither the config nor the graph says. */
	static final int DEFAULT_CHANNELS = 320;
	/** Float tensors of the first block's width per latent position alive at the UNet's peak (fitted on SDXL shapes). */
	static final int ACTIVATION_TENSORS = 12;
	/** Float tensors of the VAE decoder's first block width per image pixel alive at its peak (SD's VAE at 1024²). */
	static final int VAE_TENSORS = 7;
	/** SD and SDXL's VAE decoder width at full resolution, when the config does not say. */
	static final int DEFAULT_VAE_CHANNELS = 128;
	/** The largest image decoded in one piece by default ({@code VaeTiling}'s automatic threshold, 128 latents). */
	static final long VAE_UNTILED_MAX_PIXELS = 1024L * 1024;

	private final long weightBytes;
	private final int heads;
	/** How many times the highest-resolution attention is halved in each direction (leading blocks without attention). */
	private final int attentionDownsampling;
	/** The UNet's first block width. */
	private final int channels;
	/** The VAE decoder's first block width (at full image resolution); 0 without a VAE decoder. */
	private int vaeChannels;

	MemoryEstimate(long weightBytes, int heads, int attentionDownsampling) {
		this(weightBytes, heads, attentionDownsampling, DEFAULT_CHANNELS);
	}

	MemoryEstimate(long weightBytes, int heads, int attentionDownsampling, int channels) {
		this.weightBytes = weightBytes;
		this.heads = heads;
		this.attentionDownsampling = attentionDownsampling;
		this.channels = channels;
	}

	/** The estimate's parameters for the model in {@code folder} (its ONNX files and {@code unet/config.json}). */
	public static MemoryEstimate of(Path folder) {
		JsonObject unet = StableDiffusionModel.readJson(folder.resolve("unet").resolve("config.json"));
		int heads = DEFAULT_HEADS, skip = 0;
		JsonElement h = unet.get("num_attention_heads");
		if (h == null || h.isJsonNull()) h = unet.get("attention_head_dim");
		JsonElement blocks = unet.get("down_block_types");
		if (blocks != null && blocks.isJsonArray()) {
			var types = blocks.getAsJsonArray();
			while (skip < types.size() - 1 && !types.get(skip).getAsString().contains("Attn")) skip++;
		}
		if (h != null && h.isJsonPrimitive()) heads = h.getAsInt();
		else if (h != null && h.isJsonArray() && h.getAsJsonArray().size() > skip) heads = h.getAsJsonArray().get(skip).getAsInt();
		JsonElement widths = unet.get("block_out_channels");
		int channels = widths != null && widths.isJsonArray() && widths.getAsJsonArray().size() > 0
			? widths.getAsJsonArray().get(0).getAsInt() : firstConvolutionWidth(folder.resolve("unet").resolve("model.onnx"));
		MemoryEstimate m = new MemoryEstimate(weightBytes(folder), Math.max(1, heads), skip, channels);
		if (Files.isDirectory(folder.resolve("vae_decoder"))) {
			JsonElement vae = StableDiffusionModel.readJson(folder.resolve("vae_decoder").resolve("config.json"))
				.get("block_out_channels");
			m.vaeChannels = vae != null && vae.isJsonArray() && vae.getAsJsonArray().size() > 0
				? vae.getAsJsonArray().get(0).getAsInt() : DEFAULT_VAE_CHANNELS;
		}
		return m;
	}

	/** The output channels of the UNet's convolution that reads {@code sample} (its graph, not its weights), else 320. */
	private static int firstConvolutionWidth(Path unet) {
		if (!Files.isRegularFile(unet)) return DEFAULT_CHANNELS;
		try {
			OnnxGraph graph = OnnxGraph.read(unet);
			for (OnnxGraph.Node n : graph.nodes()) {
				if (!n.opType().equals("Conv") || n.inputs().size() < 2 || !n.inputs().get(0).equals("sample")) continue;
				OnnxGraph.Initializer w = graph.initializers().get(n.inputs().get(1));
				if (w != null && w.dims().length == 4 && w.dims()[0] > 0) return (int) w.dims()[0];
			}
		}
		catch (RuntimeException e) {
			// unreadable: the load itself reports it
		}
		return DEFAULT_CHANNELS;
	}

	private static long weightBytes(Path folder) {
		long total = 0;
		for (String component : List.of("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder")) {
			Path dir = folder.resolve(component);
			if (!Files.isDirectory(dir)) continue;
			long files = 0;
			try (Stream<Path> list = Files.list(dir)) {
				files = list.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".json"))
					.mapToLong(p -> {
						try {
							return Files.size(p);
						}
						catch (IOException e) {
							return 0;
						}
					}).sum();
			}
			catch (IOException e) {
				// unreadable: the load itself reports it
			}
			total += fp16Weights(dir.resolve("model.onnx")) ? 2 * files : files;
		}
		return total;
	}

	/**
	 * Whether most of the model's weights are fp16: ONNX Runtime's CPU provider computes such a model in fp32 and keeps
	 * fp32 copies of the weights, so they take about twice their file's size (measured: an SDXL-shaped UNet with its
	 * weights stored as fp16 peaked 4 % above the same UNet in fp32; PERFORMANCE.md, "SDXL memory").
	 */
	static boolean fp16Weights(Path model) {
		if (!Files.isRegularFile(model)) return false;
		try {
			long half = 0, full = 0;
			for (OnnxGraph.Initializer i : OnnxGraph.read(model).initializers().values()) {
				if (i.dataType() == OnnxGraph.FLOAT16) half += 2 * i.elements();
				else if (i.dataType() == OnnxGraph.FLOAT) full += 4 * i.elements();
			}
			return half > full;
		}
		catch (RuntimeException e) {
			return false; // unreadable: the load itself reports it
		}
	}

	/** The memory the model's weights take on the CPU: the size of its ONNX files, twice that for fp16 weights. */
	public long weightBytes() { return weightBytes; }

	/** Bytes needed for {@code width × height} with {@code unetBatch} samples per UNet call. */
	public long bytes(int width, int height, int unetBatch) {
		double n = (double) (width / 8 >> attentionDownsampling) * (height / 8 >> attentionDownsampling);
		double attention = 8.0 * heads * n * n;
		double activations = 4.0 * ACTIVATION_TENSORS * channels * (width / 8) * (height / 8);
		double vae = 4.0 * VAE_TENSORS * vaeChannels * Math.min((double) width * height, VAE_UNTILED_MAX_PIXELS);
		double total = BASE_BYTES + weightBytes + Math.max((attention + activations) * unetBatch, vae);
		return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
	}

	/** The largest square size, a multiple of {@code step}, that fits {@code available} bytes; 0 when none does. */
	public int largestSquare(int step, int unetBatch, long available, int maxSize) {
		for (int s = maxSize / step * step; s >= step; s -= step)
			if (bytes(s, s, unetBatch) <= available) return s;
		return 0;
	}

	/**
	 * Refuses {@code width × height} when the estimate exceeds {@code available} bytes, saying the estimate and the largest
	 * size that fits.
	 */
	public void check(int width, int height, int batchSize, boolean cfgBatched, int step, long available, int maxSize) {
		check(width, height, width, height, batchSize, cfgBatched, step, available, maxSize);
	}

	/**
	 * As {@link #check(int, int, int, boolean, int, long, int)} for a UNet that sees {@code unetWidth × unetHeight} at a
	 * time (tiled diffusion: its tiles), which bounds the attention term.
	 */
	public void check(int width, int height, int unetWidth, int unetHeight, int batchSize, boolean cfgBatched, int step,
		long available, int maxSize)
	{
		int unetBatch = batchSize * (cfgBatched ? 2 : 1);
		long need = bytes(unetWidth, unetHeight, unetBatch);
		if (need <= available) return;
		int largest = largestSquare(step, unetBatch, available, maxSize);
		throw new StableDiffusionException(String.format(Locale.ROOT, "%dx%d%s needs about %s of memory, but %s is "
			+ "available. %s", width, height, batchSize > 1 ? " with " + batchSize + " images per batch" : "",
			human(need), human(available), largest == 0 ? "Close other programs, or use fewer images per batch."
				: "The largest size that fits is about " + largest + "x" + largest
					+ (batchSize > 1 ? " (or use fewer images per batch)" : "") + "."));
	}

	/**
	 * The estimated peak of the process that writes the largest component's optimised-model file on a model's first
	 * load ({@link ModelOptimizer#estimatedPeakBytes}): a process of its own, started only when the free memory holds
	 * it and finished before the first generation, so it is not part of a generation's estimate.
	 */
	public static long optimizerBytes(Path folder) {
		long largest = 0;
		for (String c : List.of("unet", "controlnet", "text_encoder", "text_encoder_2", "vae_decoder", "vae_encoder")) {
			Path file = folder.resolve(c).resolve("model.onnx");
			if (Files.isRegularFile(file)) largest = Math.max(largest, ModelOptimizer.estimatedPeakBytes(file));
		}
		return largest;
	}

	/** Memory the system can give without swapping: {@code MemAvailable} of /proc/meminfo, else the free physical memory. */
	public static long availableBytes() {
		return sc.fiji.sd.onnx.SystemMemory.available();
	}

	static String human(long bytes) {
		if (bytes >= 1L << 40) return String.format(Locale.ROOT, "%.1f TB", bytes / (double) (1L << 40));
		if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30));
		return String.format(Locale.ROOT, "%d MB", bytes >> 20);
	}
}
