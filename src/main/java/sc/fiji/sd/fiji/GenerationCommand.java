package sc.fiji.sd.fiji;

import java.io.File;

import org.scijava.ItemIO;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.thread.ThreadService;
import org.scijava.ui.UIService;

import ij.ImagePlus;
import sc.fiji.sd.imagej.Parameters;

/**
 * What the generation commands (Text to Image, Image to Image, Inpaint) share besides their inputs: the services, the
 * result output and the run through the shared code path.
 * <p>
 * The inputs stay in each command on purpose: SciJava lists a superclass's {@code @Parameter} fields before the
 * subclass's, so inputs moved here would move to the top of the dialog and of recorded macro lines (the image and
 * the strength would come after the model and device).
 */
abstract class GenerationCommand extends ContextCommand {

	/**
	 * The model input's value for "the model chosen in Settings": an empty path, never null, so the macro recorder
	 * records {@code model=} and a recorded line replays without a folder chooser.
	 */
	static final File NO_MODEL = new File("");

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private LogService log;

	@Parameter(required = false)
	private UIService ui;

	@Parameter(required = false)
	private ThreadService threads;

	@Parameter(type = ItemIO.OUTPUT)
	private ImagePlus result;

	/**
	 * The options Image to Image, Inpaint and Outpaint share, from their inputs (the caller has already replaced null
	 * texts and model by empty ones, which the recorder then records).
	 */
	static Parameters imageParameters(sc.fiji.sd.pipeline.GenerationRequest.Mode mode, String prompt, String negative,
		int steps, double guidance, long seed, String scheduler, double strength, int batch, String output,
		String channels, boolean stack, boolean preview, File model, String device) {
		Parameters p = new Parameters(mode);
		p.prompt = prompt;
		p.negative = negative;
		p.steps = steps;
		p.guidance = guidance;
		p.seed = seed;
		p.scheduler = scheduler;
		p.strength = strength;
		p.batch = batch;
		p.output = output;
		p.channels = channels;
		p.stack = stack;
		p.preview = preview;
		p.model = model.getPath();
		p.device = device;
		return p;
	}

	/**
	 * Runs the generation and sets the result (null, with the command cancelled with the message, on a user error).
	 *
	 * @return the seed actually used, for the command to write back into its {@code seed} input before the macro
	 *         recorder (a post-processor) records it
	 */
	long generate(Parameters p, ImagePlus input) {
		result = CommandSupport.generate(this, sd, log, p, input);
		ImageJResults.register(result, ui, threads);
		return p.seed;
	}
}
