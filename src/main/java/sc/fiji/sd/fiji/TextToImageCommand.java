package sc.fiji.sd.fiji;

import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

import ij.ImagePlus;
import sc.fiji.sd.ij1.Generators;
import sc.fiji.sd.ij1.Parameters;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Plugins › Stable Diffusion › Text to Image... in Fiji: a new image (a stack for a batch) from a prompt.
 * <p>
 * Parameter names are the macro keys (the same as the ImageJ 1 dialog's), e.g.
 * {@code run("Text to Image...", "prompt=[a red circle] steps=20 seed=42");}. A seed of −1 draws one; the command writes the
 * drawn seed back into its {@code seed} input before the macro recorder (a post-processor) records it, so the
 * recorded line replays to the same pixels.
 */
@Plugin(type = Command.class, menuPath = "Plugins>Stable Diffusion>Text to Image...")
public class TextToImageCommand extends ContextCommand {

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private LogService log;

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

	@Parameter(label = "Width (0 = model size)", min = "0")
	private int width;

	@Parameter(label = "Height (0 = model size)", min = "0")
	private int height;

	// Choices must be constants here; CommandsTest checks they are the core's sampler names. (A DynamicCommand could
	// fill them at run time, but CommandService.run cannot return such a module.)
	@Parameter(label = "Scheduler (sampler)", choices = {
		"default", "Euler a", "Euler", "Euler Karras", "LMS", "LMS Karras", "Heun", "Heun Karras", "DPM++ 2M",
		"DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "UniPC", "UniPC Karras", "DDIM", "PLMS", "PNDM", "LCM" })
	private String scheduler = Generators.DEFAULT_SCHEDULER;

	@Parameter(label = "Batch (images)", min = "1")
	private int batch = 1;

	@Parameter(label = "Preview while generating", required = false)
	private boolean preview;

	@Parameter(type = ItemIO.OUTPUT)
	private ImagePlus result;

	@Override
	public void run() {
		Parameters p = new Parameters(Mode.TEXT_TO_IMAGE);
		p.prompt = prompt;
		p.negative = negative == null ? "" : negative;
		p.steps = steps;
		p.guidance = guidance;
		p.seed = seed;
		p.scheduler = scheduler;
		p.batch = batch;
		p.preview = preview;
		p.width = width;
		p.height = height;
		result = CommandSupport.generate(this, sd, log, p, null);
		seed = p.seed; // the seed actually used, for the macro recorder
	}
}
