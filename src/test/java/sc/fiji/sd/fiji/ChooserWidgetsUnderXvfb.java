package sc.fiji.sd.fiji;

import java.awt.GridBagConstraints;
import java.awt.GridBagLayout;
import java.awt.Insets;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.Toolkit;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;
import javax.swing.JComboBox;
import javax.swing.JFrame;
import javax.swing.JLabel;
import javax.swing.JPanel;
import javax.swing.SwingUtilities;

import org.scijava.Context;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleService;
import org.scijava.widget.InputWidget;
import org.scijava.widget.WidgetService;

import sc.fiji.sd.hub.CancelToken;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.model.EmbeddedModel;

/**
 * The README screenshot of the Fiji commands' model chooser and sampler drop-down (docs/fiji-model-chooser.png),
 * under Xvfb: the widgets the widget service finds for Text to Image's {@code scheduler} and {@code model} inputs,
 * labelled as Fiji's dialog labels them, after a download from a local imitation of the hub into a scratch cache.
 * Fiji's whole dialog (scijava-ui-swing's SwingInputPanel) is not on Maven Central, so only these rows are shown.
 * Run by {@code tools/screenshots/screenshots.sh}; not a test.
 */
public final class ChooserWidgetsUnderXvfb {

	public static void main(String[] args) throws Exception {
		File out = new File(args.length > 0 ? args[0] : "docs", "fiji-model-chooser.png");
		Path cache = Files.createTempDirectory("hub");
		try (FakeHub hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "")) {
			HubEnvironment env = hub.environment(cache);
			ModelDownloads.environment = () -> env;
			new HubClient(env).download(RepoId.parse(FakeHub.REPO, ""), DownloadListener.NONE, new CancelToken());
		}
		Context context = new Context();
		Module module = context.service(ModuleService.class).createModule(context.service(CommandService.class)
			.getCommand(TextToImageCommand.class));
		WidgetService widgets = context.service(WidgetService.class);
		JPanel panel = new JPanel(new GridBagLayout());
		int row = 0;
		JComboBox<?> modelList = null;
		for (String name : List.of("scheduler", "model")) {
			var item = module.getInfo().getInput(name);
			InputWidget<?, ?> widget = widgets.create(widgets.createModel(new ModelChooserWidgetTest.SwingLikePanel(),
				module, item, List.of()));
			JPanel component = (JPanel) widget.getComponent();
			GridBagConstraints c = new GridBagConstraints();
			c.gridy = row++;
			c.insets = new Insets(6, 8, 6, 8);
			c.anchor = GridBagConstraints.NORTHEAST;
			panel.add(new JLabel(item.getLabel()), c);
			c.gridx = 1;
			c.fill = GridBagConstraints.HORIZONTAL;
			c.weightx = 1;
			panel.add(component, c);
			if (widget instanceof ModelChooserWidget) modelList = (JComboBox<?>) component.getComponent(0);
		}
		JComboBox<?> list = modelList;
		JFrame frame = new JFrame("Text to Image...");
		SwingUtilities.invokeAndWait(() -> {
			frame.setContentPane(panel);
			frame.setSize(900, 240);
			frame.setLocation(0, 0);
			frame.setVisible(true);
		});
		Thread.sleep(1500);
		SwingUtilities.invokeAndWait(list::showPopup);
		Thread.sleep(1000);
		Rectangle screen = new Rectangle(Toolkit.getDefaultToolkit().getScreenSize()).intersection(frame.getBounds());
		ImageIO.write(new Robot().createScreenCapture(screen), "png", out);
		System.out.println("wrote " + out);
		System.exit(0);
	}
}
