package sc.fiji.sd.fiji;

import java.io.File;

import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

import ij.ImagePlus;
import sc.fiji.sd.control.ControlOptions;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.imagej.ControlImages;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Plugins › Stable Diffusion › Inpaint... in Fiji: repaints the selected area of the image; pixels outside the selection stay as they are.
 * <p>
 * Parameter names are the macro keys (the same as the ImageJ 1 dialog's), e.g.
 * {@code run("Inpaint...", "prompt=[a red circle] steps=20 seed=42");}. A seed of −1 draws one; the command writes the
 * drawn seed back into its {@code seed} input before the macro recorder (a post-processor) records it, so the
 * recorded line replays to the same pixels.
 */
@Plugin(type = Command.class, menuPath = "Plugins>Stable Diffusion>Inpaint...")
public class InpaintCommand extends GenerationCommand {

	@Parameter(label = "Image", persist = false)
	private ImagePlus image;

	@Parameter(label = "Prompt")
	private String prompt = "";

	@Parameter(label = "Negative prompt", required = false)
	private String negative = "";

	@Parameter(label = "Steps", min = "1")
	private int steps = 20;

	@Parameter(label = "Guidance (CFG scale)", min = "0", stepSize = "0.5")
	private double guidance = 7;

	@Parameter(label = "Seed (-1 = random)", persist = false)
	private long seed = -1;

	@Parameter(label = "Subseed (variation seed, -1 = random)", persist = false)
	private long subseed = -1;

	@Parameter(label = "Variation strength (0 = off)", min = "0", max = "1", stepSize = "0.05")
	private double variation;

	// A drop-down of the sampler registry's names in Fiji's dialog (the widget reads them when it opens)
	@Parameter(label = "Scheduler (sampler)", style = SamplerChooserWidget.STYLE)
	private String scheduler = Generators.DEFAULT_SCHEDULER;

	@Parameter(label = "Strength (0 keeps the image, 1 ignores it)", min = "0", max = "1", stepSize = "0.05")
	private double strength = 0.75;

	@Parameter(label = "Batch (images)", min = "1")
	private int batch = 1;

	@Parameter(label = "Feather (pixels)", min = "0")
	private int feather = 4;

	@Parameter(label = "Output (grey images: their own type, or RGB)", choices = { "Same as input", "RGB" })
	private String output = Parameters.SAME_AS_INPUT;

	@Parameter(label = "Channels (composite images: the merged view or each channel)", choices = { "merged", "each" })
	private String channels = Parameters.MERGED;

	@Parameter(label = "Stack (all slices)", required = false)
	private boolean stack;

	@Parameter(label = "Preview while generating", required = false)
	private boolean preview;

	// Copied from TextToImageCommand: the ControlNet inputs, down to show_control (SciJava lists a superclass's
	// inputs first, and these belong after the command's own); CopiedInputsTest keeps the copies identical.
	// ControlNet (the same keys as the ImageJ 1.x dialog): control is "none", "selection" (the active image's) or an
	// open image's title; a free text here, since the titles change at run time.
	@Parameter(label = "Control (none, selection, or an image title)", required = false, persist = false)
	private String control = ControlImages.NONE;

	// a drop-down of the pre-processor registry's names in Fiji's dialog (the widget reads them when it opens)
	@Parameter(label = "Control type (preprocessor)", style = ControlTypeChooserWidget.STYLE)
	private String control_type = ControlPreprocessors.DEFAULT;

	@Parameter(label = "ControlNet (folder; empty: <model folder>-controlnet)",
		style = FileWidget.DIRECTORY_STYLE, required = false, persist = false)
	private File controlnet = NO_MODEL;

	@Parameter(label = "Control scale (weight)", min = "0", stepSize = "0.1")
	private double control_scale = 1;

	@Parameter(label = "Control start (fraction of the steps)", min = "0", max = "1", stepSize = "0.05")
	private double control_start = 0;

	@Parameter(label = "Control end (fraction of the steps)", min = "0", max = "1", stepSize = "0.05")
	private double control_end = 1;

	@Parameter(label = "Control low (canny threshold, 0-255)", min = "0", max = "255")
	private double control_low = ControlOptions.DEFAULT_LOW;

	@Parameter(label = "Control high (canny threshold, 0-255)", min = "0", max = "255")
	private double control_high = ControlOptions.DEFAULT_HIGH;

	@Parameter(label = "Show control (the preprocessed control image)", required = false)
	private boolean show_control;

	@Parameter(label = "Model folder (empty: the one in Settings)", style = FileWidget.DIRECTORY_STYLE + ","
		+ ModelChooserWidget.STYLE,
		required = false, persist = false)
	private File model = NO_MODEL;

	@Parameter(label = "Device (default: the one in Settings)", choices = { "default", "auto", "cpu", "cuda" },
		persist = false)
	private String device = Generators.DEFAULT_DEVICE;

	@Override
	public void run() {
		Parameters p = parameters(Mode.INPAINT);
		generate(p, image); // writes the seed and subseed used back, for the macro recorder
	}
}
