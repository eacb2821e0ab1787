package sc.fiji.sd.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.onnxruntime.OnnxJavaType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.SessionFactory;

/**
 * One ControlNet in OnnxStack's split layout, its session open: {@code sample}, {@code timestep},
 * {@code encoder_hidden_states}, {@code controlnet_cond} (the control image, [B, 3, H, W] in [0, 1]) and, in newer
 * exports, {@code conditioning_scale} → the residuals ({@code down_block_<i>_additional_residual},
 * {@code mid_block_additional_residual}) that the base model's {@code controlnet/model.onnx} UNet takes as inputs.
 * Opened and closed with its base model ({@link StableDiffusionModel}), checked against it when opened.
 */
public final class ControlNetModel implements AutoCloseable {

	/** The UNet of a base model that takes ControlNet residuals, relative to the model folder. */
	public static final String UNET = "controlnet/model.onnx";
	/** A model's own ControlNet is the folder beside it named like it plus this (see {@link #besideModel}). */
	public static final String BESIDE_SUFFIX = "-controlnet";
	/** The input through which newer exports scale their residuals themselves. */
	public static final String SCALE_INPUT = "conditioning_scale";
	static final String RESIDUAL_PREFIX = "down_block_", MID_RESIDUAL = "mid_block_additional_residual";
	/** SDXL's added conditioning, which an SDXL ControlNet takes as its UNet does. */
	public static final List<String> SDXL_INPUTS = List.of("text_embeds", "time_ids");

	private static final String HELP = "A ControlNet (OnnxStack's layout) is a folder with model.onnx taking sample, "
		+ "timestep, encoder_hidden_states and controlnet_cond and giving down_block_<i>_additional_residual and "
		+ "mid_block_additional_residual.";

	private final Path source;
	private final OnnxComponent component;
	private final List<String> residuals;

	private ControlNetModel(Path source, OnnxComponent component, List<String> residuals) {
		this.source = source;
		this.component = component;
		this.residuals = residuals;
	}

	/** The folder (or .onnx file) as the request names it, absolute and normalised. */
	public Path source() { return source; }
	public OnnxComponent component() { return component; }
	/** Its residual outputs, which are the residual inputs of the base model's ControlNet UNet. */
	public List<String> residuals() { return residuals; }
	/** Whether it scales its residuals itself ({@code conditioning_scale}); otherwise the caller multiplies them. */
	public boolean scalesItself() { return component.hasInput(SCALE_INPUT); }

	/** A display name: the folder's name (the folder's of a model.onnx given as a file). */
	public String name() {
		return name(source);
	}

	/**
	 * The default ControlNet of a base model, for every front end: the folder beside it named
	 * {@code <model folder>-controlnet} (e.g. {@code models/sd15-onnx-controlnet} beside {@code models/sd15-onnx}), where
	 * the embedded model's ControlNet is shipped and unpacked ({@link EmbeddedModel}) and where users put the one made
	 * for their model. Null for a folder without a name (a root); the folder may not exist.
	 */
	public static Path besideModel(Path baseModel) {
		if (baseModel == null) return null;
		Path base = normalize(baseModel);
		return base.getFileName() == null ? null : base.resolveSibling(base.getFileName() + BESIDE_SUFFIX);
	}

	/** The display name of the ControlNet at {@code path}: its folder's name, for a .onnx file its parent's. */
	public static String name(Path path) {
		Path p = normalize(path), file = p.getFileName();
		if (file == null) return p.toString();
		boolean onnx = file.toString().endsWith(".onnx") && p.getParent() != null && p.getParent().getFileName() != null;
		return onnx ? p.getParent().getFileName().toString() : file.toString();
	}

	/** The residual inputs of a UNet (none: it is not a ControlNet UNet). */
	public static List<String> residualInputs(OnnxComponent unet) {
		List<String> out = new ArrayList<>();
		for (String n : unet.inputNames()) {
			if (n.equals(MID_RESIDUAL) || n.startsWith(RESIDUAL_PREFIX) && n.endsWith("_additional_residual")) out.add(n);
		}
		return out;
	}

	/** {@code path} as a normalised absolute path (keys and lookups compare these). */
	public static Path normalize(Path path) {
		return path.toAbsolutePath().normalize();
	}

	/** Before any session is made: the model folder has a ControlNet UNet. */
	static void checkBaseFolder(Path folder) {
		if (!Files.isRegularFile(folder.resolve(UNET))) {
			throw new StableDiffusionException("The model folder " + folder + " has no " + UNET + ", the UNet that "
				+ "takes ControlNet residuals (OnnxStack's layout), so it cannot use a ControlNet. Use an export with "
				+ "ControlNet support, or generate without ControlNet.");
		}
	}

	/** The base's ControlNet UNet is usable: not a 9-channel inpainting UNet, and it takes residuals. */
	static void checkBaseUnet(ModelInfo info, OnnxComponent unet) {
		if (info.unetInChannels() == 9) {
			throw new StableDiffusionException("ControlNet does not work with the 9-channel inpainting UNet of "
				+ info.folder() + ". Use a text to image model with ControlNet (inpainting then runs on its 4-channel "
				+ "UNet), or generate without ControlNet.");
		}
		if (residualInputs(unet).isEmpty()) {
			throw new StableDiffusionException(unet.file() + " takes no ControlNet residuals (inputs " + RESIDUAL_PREFIX
				+ "<i>_additional_residual, " + MID_RESIDUAL + "); it is not the ControlNet UNet of OnnxStack's layout.");
		}
	}

	/**
	 * Opens the ControlNet at {@code path} (a folder with model.onnx, or the .onnx file) and checks that it was made
	 * for {@code base}: the same text width and, residual by residual, the same names and channel counts as the
	 * base's ControlNet UNet {@code unet}.
	 *
	 * @throws StableDiffusionException naming the ControlNet and the base model
	 */
	static ControlNetModel open(SessionFactory sessions, Path path, ModelInfo base, OnnxComponent unet) {
		Path source = normalize(path);
		Path file = Files.isDirectory(source) ? source.resolve("model.onnx") : source;
		if (!Files.isRegularFile(file)) {
			throw new StableDiffusionException(Files.exists(source) ? "The ControlNet folder " + source + " has no "
				+ "model.onnx. " + HELP : "The ControlNet " + source + " does not exist. " + HELP);
		}
		OnnxComponent c = new OnnxComponent("controlnet", file, sessions.open(file, SessionMemory.ARENA),
			sessions.cpuArena(SessionMemory.ARENA));
		try {
			for (String input : new String[] { "sample", "timestep", "encoder_hidden_states", "controlnet_cond" }) {
				if (!c.hasInput(input)) {
					throw new StableDiffusionException(file + " has no input '" + input + "' (it has " + c.inputNames()
						+ "); it is not a ControlNet. " + HELP);
				}
			}
			ControlNetModel net = new ControlNetModel(source, c, List.copyOf(c.outputNames()));
			net.checkFor(base, unet);
			return net;
		}
		catch (RuntimeException e) {
			c.close();
			throw e;
		}
	}

	private void checkFor(ModelInfo base, OnnxComponent unet) {
		String made = "The ControlNet " + name() + " (" + source + ") was made for another base model than "
			+ base.name() + " (" + base.folder() + "): ";
		for (String added : SDXL_INPUTS) {
			if (component.hasInput(added) != unet.hasInput(added)) {
				throw new StableDiffusionException(made + (component.hasInput(added) ? "it is an SDXL ControlNet (it takes "
					+ added + "), the model is not" : "the model is SDXL (its UNet takes " + added + "), the ControlNet "
					+ "is not") + ". Use a ControlNet trained for " + base.name() + "'s family.");
			}
		}
		long[] ehs = component.inputShape("encoder_hidden_states");
		long width = ehs.length == 0 ? -1 : ehs[ehs.length - 1];
		if (width > 0 && width != base.textWidth()) {
			throw new StableDiffusionException(made + "its text width is " + width + ", the model's " + base.textWidth()
				+ ". Use a ControlNet trained for " + base.name() + "'s family (SD 1.x ControlNets for SD 1.x models).");
		}
		List<String> wanted = residualInputs(unet);
		if (!residuals.containsAll(wanted)) {
			List<String> missing = new ArrayList<>(wanted);
			missing.removeAll(residuals);
			throw new StableDiffusionException(made + "the model's ControlNet UNet takes " + wanted.size()
				+ " residuals, the ControlNet gives " + residuals.size() + " (missing " + missing + ").");
		}
		for (String r : wanted) {
			long have = dim1(component.outputShape(r)), want = dim1(unet.inputShape(r));
			if (have > 0 && want > 0 && have != want) {
				throw new StableDiffusionException(made + "its residual " + r + " has " + have + " channels, the "
					+ "model's ControlNet UNet takes " + want + ".");
			}
		}
		OnnxJavaType scale = component.hasInput(SCALE_INPUT) ? component.inputType(SCALE_INPUT) : null;
		if (scale != null && scale != OnnxJavaType.FLOAT && scale != OnnxJavaType.DOUBLE) {
			throw new StableDiffusionException(component.file() + " takes " + SCALE_INPUT + " as "
				+ OnnxComponent.typeName(scale) + "; supported are float32 and float64.");
		}
	}

	private static long dim1(long[] shape) {
		return shape.length > 1 ? shape[1] : -1;
	}

	@Override
	public void close() {
		component.close();
	}
}
